namespace ContactGrains.LoadTest.Tests;

public sealed class AgentsOptionsTests
{
    [Theory]
    [InlineData("hybrid", "--human-share", "1.5")]
    [InlineData("hybrid", "--human-share", "-0.2")]
    [InlineData("hybrid", "--human-share", "a fifth")]
    [InlineData("hybrid", "--think-ms", "-1")]
    [InlineData("hybrid", "--capacity", "0")]
    [InlineData("hybrid", "--total", "0")]
    [InlineData("hybrid", "--rate", "0")]
    [InlineData("hybrid", "--rate", "100001")]
    [InlineData("hybrid", "--rate", "50", "--conversations", "10")]
    [InlineData("hybrid", "--address", "http://10.0.0.1:5000")]
    [InlineData("idle", "--checkpoints", "10,x")]
    [InlineData("idle", "--checkpoints", "10,0")]
    [InlineData("idle", "--settle-seconds", "-5")]
    [InlineData("idle", "--max-seconds", "841")]
    public async Task A_command_line_the_tester_refuses_is_a_usage_error(params string[] args)
    {
        Assert.Equal(2, await LoadCommands.RunAsync(args));
    }

    [Fact]
    public void The_agent_side_commands_read_their_options()
    {
        var hybrid = LoadCommands.Create().Parse(["hybrid", "--human-share", "0.35", "--think-ms", "0", "--total", "40", "--report", "out"]);
        Assert.Empty(hybrid.Errors);
        Assert.Equal(0.35, hybrid.GetValue<double>("--human-share"));
        Assert.Equal(0, hybrid.GetValue<int>("--think-ms"));
        Assert.Equal("out", hybrid.GetValue<string?>("--report"));
        Assert.Null(hybrid.GetValue<int?>("--rate"));

        var openLoop = LoadCommands.Create().Parse(["hybrid", "--rate", "250", "--total", "5000"]);
        Assert.Empty(openLoop.Errors);
        Assert.Equal(250, openLoop.GetValue<int?>("--rate"));

        var idle = LoadCommands.Create().Parse(["idle", "--checkpoints", "100, 20,3000"]);
        Assert.Empty(idle.Errors);
        Assert.Equal([100, 20, 3000], idle.GetValue<int[]>("--checkpoints")!);
        Assert.Equal([10_000, 100_000, 1_000_000], LoadCommands.Create().Parse(["idle"]).GetValue<int[]>("--checkpoints")!);
    }
}
