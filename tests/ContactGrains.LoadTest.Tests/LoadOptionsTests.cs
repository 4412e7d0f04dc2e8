namespace ContactGrains.LoadTest.Tests;

public class LoadOptionsTests
{
    [Theory]
    [InlineData("channel", "--address", "http://10.0.0.1:5000")]
    [InlineData("channel", "--streams", "0")]
    [InlineData("channel", "--max-seconds", "841")]
    [InlineData("channel", "--rate", "0")]
    [InlineData("channel", "--rate", "100001")]
    [InlineData("channel", "--rate", "1.5")]
    [InlineData("soak", "--duration", "841")]
    [InlineData("soak", "--sample-seconds", "0")]
    [InlineData("soak", "--rate", "-5")]
    [InlineData("soak", "--address", "http://example.com:5000")]
    [InlineData("soak", "--max-seconds", "10")] // soak is bounded by --duration
    [InlineData("ceiling", "--conversations", "0")]
    [InlineData("ceiling", "--warm-up-runs", "0")]
    [InlineData("ceiling", "--warm-up-runs", "21")]
    [InlineData("failover", "--silos", "1")]
    public async Task A_command_line_the_tester_refuses_is_a_usage_error(params string[] args)
    {
        Assert.Equal(2, await LoadCommands.RunAsync(args));
    }
}
