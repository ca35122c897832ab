"""The daily hiring report: query the database, write the report to storage, notify chat."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field, field_validator

from raw import BaseWorkflow, clock, step


class Params(BaseModel):
    date: str = Field(default="today", description="The day to report: 'today' or YYYY-MM-DD.")

    @field_validator("date")
    @classmethod
    def _day(cls, value: str) -> str:
        if value != "today":
            try:
                date.fromisoformat(value)
            except ValueError:
                raise ValueError("use 'today' or a date such as 2026-03-02") from None
        return value


class Report(BaseModel):
    date: str
    key: str
    figures: dict[str, object]
    notified: bool


class GenerateReport(BaseWorkflow[Params]):
    """The daily hiring report: query the database, write the report to storage, notify chat."""

    @property
    def day(self) -> date:
        # "today" is read from raw.clock, so simulations and schedules agree on the day.
        return (
            clock.today() if self.params.date == "today" else date.fromisoformat(self.params.date)
        )

    @property
    def dry(self) -> bool:
        return bool(self.run_context and self.run_context.dry)

    @step("query")
    def query(self) -> dict[str, object]:
        from hiring.reporting import daily_figures, engine_for

        url = None
        if not self.dry:
            from hiring.state import project

            from raw.coordinator.db.database import database_url

            url = database_url(project())
        engine = engine_for(url)
        try:
            return daily_figures(engine, self.day).model_dump(mode="json")
        finally:
            engine.dispose()

    @step("publish")
    def publish(self, figures: dict[str, object]) -> Report:
        from hiring.reporting import DailyFigures, markdown

        text = markdown(DailyFigures.model_validate(figures))
        key = f"reports/{self.day.isoformat()}.md"
        headline = (
            f"Hiring report {self.day.isoformat()}: {figures['received']} applications, "
            f"{figures['calls_completed']} calls completed."
        )
        if self.dry:  # no side effects: the report goes to the run's results only
            self.save(f"{self.day.isoformat()}.md", text)
            self.log(f"dry run: would store {key} and notify: {headline}")
            return Report(date=self.day.isoformat(), key=key, figures=figures, notified=False)
        from hiring.state import project

        from raw.integrations import for_project

        integrations = for_project(project().root)
        integrations.storage.put_sync(key, text.encode(), content_type="text/markdown")
        integrations.chat.notify_sync(
            f"{headline} Report: {key}",
            idempotency_key=self.idempotency_key or f"daily-report:{self.day.isoformat()}",
        )
        return Report(date=self.day.isoformat(), key=key, figures=figures, notified=True)

    def run(self) -> Report:
        return self.publish(self.query())


if __name__ == "__main__":
    GenerateReport.main()
