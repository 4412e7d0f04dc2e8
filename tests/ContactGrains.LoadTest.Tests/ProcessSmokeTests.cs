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
