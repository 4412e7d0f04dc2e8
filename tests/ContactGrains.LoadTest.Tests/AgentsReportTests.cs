namespace ContactGrains.LoadTest.Tests;

public sealed class AgentsReportTests
{
    [Fact]
    public void A_report_shows_its_tables_row_by_row_and_its_notes()
    {
        var report = new LoadReport("idle") { StartedAt = new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero), Passed = true };
        report.Tables.Add(new LoadReport.Table("Checkpoints", ["conversations", "silo RSS"], [["20", "174 MiB"], ["50", "176 MiB"]]));
        report.Notes.Add("RSS includes the GC's headroom.");

        Assert.Equal(
            "# contactgrains-load idle\n\nStarted 2026-11-30 12:00:00 UTC. Result: **passed**.\n\n"
            + "**Checkpoints**\n\n| conversations | silo RSS |\n| --- | --- |\n| 20 | 174 MiB |\n| 50 | 176 MiB |\n\n"
            + "Note: RSS includes the GC's headroom.\n\n",
            report.ToMarkdown());
        Assert.Contains("\"rows\": [", report.ToJson());
    }
}
