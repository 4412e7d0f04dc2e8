using System.Text.Json;

namespace ContactGrains.LoadTest.Tests;

/// <summary>Each agent-side load mode, tiny, against a real silo on loopback: it runs through, passes its own checks and writes its report.</summary>
[Collection(LoadSiloCollection.Name)]
public sealed class AgentsSmokeTests(LoadSiloFixture silo) : IDisposable
{
    private readonly string _reports = Directory.CreateTempSubdirectory("contactgrains-load-").FullName;

    [Fact]
    public async Task Hybrid_run_hands_over_resolves_and_reports()
    {
        var exitCode = await LoadCommands.RunAsync(
        [
            "hybrid", "--address", silo.Address, "--conversations", "6", "--total", "12", "--human-share", "0.5",
            "--agents", "2", "--think-ms", "50", "--max-seconds", "90", "--report", _reports,
        ]);

        Assert.Equal(0, exitCode);
        using var report = JsonDocument.Parse(File.ReadAllText(Directory.GetFiles(_reports, "hybrid-*.json").Single()));
        Assert.True(report.RootElement.GetProperty("passed").GetBoolean());
        Assert.Equal(6, Figure(report, "handoffs resolved"));
        Assert.Equal(12, Figure(report, "conversations finished"));
        Assert.Equal(6, report.RootElement.GetProperty("latencies").GetProperty("speed to answer").GetProperty("count").GetInt64());
        Assert.Single(Directory.GetFiles(_reports, "hybrid-*.md"));
    }

    [Fact]
    public async Task Hybrid_open_loop_starts_conversations_on_its_schedule_and_hands_over_the_share()
    {
        var exitCode = await LoadCommands.RunAsync(
        [
            "hybrid", "--address", silo.Address, "--rate", "20", "--total", "10", "--human-share", "0.3",
            "--agents", "2", "--think-ms", "50", "--max-seconds", "90", "--report", _reports,
        ]);

        Assert.Equal(0, exitCode);
        using var report = JsonDocument.Parse(File.ReadAllText(Directory.GetFiles(_reports, "hybrid-*.json").Single()));
        Assert.True(report.RootElement.GetProperty("passed").GetBoolean());
        Assert.Equal("open loop", report.RootElement.GetProperty("settings").GetProperty("mode").GetString());
        Assert.Equal(10, Figure(report, "conversations finished"));
        Assert.Equal(3, Figure(report, "handoffs resolved"));
        Assert.Equal(3, report.RootElement.GetProperty("latencies").GetProperty("decision → offer").GetProperty("count").GetInt64());

        // Ten conversations at 20 a second: the last is due 9 / 20 s after the first, not before.
        Assert.True(Figure(report, "last conversation started after") >= 0.45);
        Assert.InRange(Figure(report, "achieved start rate"), 1, 20);
    }

    [Fact]
    public async Task Idle_run_opens_conversations_and_reports_a_row_per_checkpoint()
    {
        var exitCode = await LoadCommands.RunAsync(
        [
            "idle", "--address", silo.Address, "--conversations", "50", "--checkpoints", "20,50", "--settle-seconds", "1",
            "--silo-pid", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), "--max-seconds", "60", "--report", _reports,
        ]);

        Assert.Equal(0, exitCode);
        using var report = JsonDocument.Parse(File.ReadAllText(Directory.GetFiles(_reports, "idle-*.json").Single()));
        Assert.Equal(50, Figure(report, "conversations open"));
        var rows = report.RootElement.GetProperty("tables")[0].GetProperty("rows");
        Assert.Equal(["20", "50"], rows.EnumerateArray().Select(r => r[0].GetString()!));
        Assert.Single(Directory.GetFiles(_reports, "idle-*.md"));
    }

    public void Dispose() => Directory.Delete(_reports, recursive: true);

    private static double Figure(JsonDocument report, string name) =>
        report.RootElement.GetProperty("figures").EnumerateArray().First(f => f.GetProperty("name").GetString() == name).GetProperty("value").GetDouble();
}
