"""Project and workflow scaffolding: `raw init`, `raw create`."""
