namespace ContactGrains.LoadTest.Tests;

/// <summary>Commands that start server processes (and PostgreSQL) run one at a time: the machine is shared.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessCollection
{
    public const string Name = "server processes";
}

[Collection(ProcessCollection.Name)]
public class ProcessSmokeTests
{
    [Fact]
    public async Task Ceiling_runs_against_the_echo_server_and_the_silo_and_passes()
    {
        var exitCode = await LoadCommands.RunAsync(["ceiling", "--streams", "2", "--conversations", "10", "--turns", "2", "--warm-up-runs", "1", "--max-seconds", "60"]);

        Assert.Equal(0, exitCode);
    }

    [Fact]
    public async Task Failover_loses_and_duplicates_nothing_when_one_of_two_silos_is_killed()
    {
        var exitCode = await LoadCommands.RunAsync(["failover", "--silos", "2", "--streams", "2", "--conversations", "20", "--turns", "3", "--max-seconds", "120"]);

        Assert.Equal(0, exitCode);
    }
}

/// <summary>The generator as its own process, as benchmarks run it: its runtime settings apply.</summary>
public class GeneratorProcessTests
{
    [Fact]
    public async Task The_bot_benchmark_times_in_one_tiered_child_process_and_ends()
    {
        // The generator compiles without tiers; the bot benchmark runs itself again with tiering on,
        // once: a child that started another would never end, and this test would time out.
        var generator = Path.Combine(AppContext.BaseDirectory, "contactgrains-load.dll");
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in new[] { generator, "bot", "--iterations", "2000" })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment.Remove("DOTNET_TieredCompilation");
        using var process = System.Diagnostics.Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        string output;
        try
        {
            output = await process.StandardOutput.ReadToEndAsync(timeout.Token);
            await process.WaitForExitAsync(timeout.Token);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        Assert.Equal(0, process.ExitCode);
        Assert.Single(output.Split('\n'), line => line.StartsWith("judged turn", StringComparison.Ordinal));
        Assert.Contains("\"System.Runtime.TieredCompilation\": false", await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "contactgrains-load.runtimeconfig.json")));
    }
}
