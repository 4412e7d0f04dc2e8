namespace ContactGrains.LoadTest.Tests;

/// <summary>
/// Each channel mode, small and short, through the command line against a real silo: every message
/// acknowledged (exit code 0) and a report that parses. Never timing: the machine is shared.
/// </summary>
[Collection(LoadSiloCollection.Name)]
public sealed class SmokeTests(LoadSiloFixture silo) : IDisposable
{
    private readonly string _reports = Directory.CreateTempSubdirectory("contactgrains-load-").FullName;

    public void Dispose() => Directory.Delete(_reports, recursive: true);

    [Fact]
    public async Task Closed_loop_channel_run_acknowledges_every_message_and_writes_its_report()
    {
        var exitCode = await LoadCommands.RunAsync(
            ["channel", "--address", silo.Address, "--streams", "2", "--conversations", "20", "--turns", "2", "--max-seconds", "120", "--report", _reports]);

        Assert.Equal(0, exitCode);
        var report = ReadReport("channel");
        Assert.True(report.Passed);
        Assert.Equal("closed loop", report.Settings["mode"]);
        Assert.Equal(40, report.Latencies["ack"].Count);
        Assert.Equal(40, Figure(report, "acked"));
        Assert.Empty(report.Problems);
    }

    [Fact]
    public async Task Open_loop_channel_run_acknowledges_every_message_and_reports_both_latencies()
    {
        // 3 s of schedule: 30 messages at 10 a second.
        var exitCode = await LoadCommands.RunAsync(
            ["channel", "--address", silo.Address, "--streams", "2", "--conversations", "10", "--turns", "3", "--rate", "10", "--max-seconds", "120", "--report", _reports]);

        Assert.Equal(0, exitCode);
        var report = ReadReport("channel");
        Assert.True(report.Passed);
        Assert.Equal("open loop", report.Settings["mode"]);
        Assert.Equal(30, report.Latencies["ack from intended send (corrected)"].Count);
        Assert.Equal(30, report.Latencies["ack from actual send (uncorrected)"].Count);
        Assert.Equal(10, Figure(report, "requested rate"));
        Assert.Empty(report.Problems);
    }

    [Fact]
    public async Task Soak_run_acknowledges_every_message_and_reports_its_samples()
    {
        var exitCode = await LoadCommands.RunAsync(
            ["soak", "--address", silo.Address, "--streams", "2", "--conversations", "5", "--turns", "2", "--rate", "10", "--duration", "4", "--sample-seconds", "1", "--report", _reports]);

        Assert.Equal(0, exitCode);
        var report = ReadReport("soak");
        Assert.True(report.Passed);
        Assert.Equal(40, Figure(report, "acked"));
        Assert.Equal(40, report.Latencies["ack from intended send (corrected)"].Count);

        // However the intervals fell, they hold every ack once.
        Assert.NotEmpty(report.Samples);
        Assert.Equal(40, report.Samples.Sum(s => s.Acked));
        Assert.Equal(Enumerable.Range(1, report.Samples.Count), report.Samples.Select(s => s.Index));
        Assert.Empty(report.Problems);
    }

    [Fact]
    public async Task A_run_that_gets_no_ack_fails_and_its_report_says_why()
    {
        // A loopback port nobody listens on: the run can only stop at its time limit.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var exitCode = await LoadCommands.RunAsync(
            ["channel", "--address", $"http://127.0.0.1:{port}", "--streams", "1", "--conversations", "2", "--turns", "2", "--rate", "10", "--max-seconds", "1", "--report", _reports]);

        Assert.Equal(1, exitCode);
        var report = ReadReport("channel");
        Assert.False(report.Passed);
        Assert.Equal(0, Figure(report, "acked"));
        Assert.Equal(["stopped at the time limit with 0/4 acks and 0/0 entries"], report.Problems);
        Assert.Equal(0, report.Latencies["ack from intended send (corrected)"].Count);
    }

    private LoadReport ReadReport(string command)
    {
        var json = Assert.Single(Directory.GetFiles(_reports, $"{command}-*.json"));
        var markdown = Assert.Single(Directory.GetFiles(_reports, $"{command}-*.md"));
        Assert.Equal(Path.ChangeExtension(json, ".md"), markdown);
        Assert.StartsWith($"# contactgrains-load {command}", File.ReadAllText(markdown), StringComparison.Ordinal);
        return LoadReport.FromJson(File.ReadAllText(json));
    }

    private static double Figure(LoadReport report, string name) => Assert.Single(report.Figures, f => f.Name == name).Value;
}
