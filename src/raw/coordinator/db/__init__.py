"""The kit's database: its own tables (deliveries, inbox, RAW run index) and migrations."""
