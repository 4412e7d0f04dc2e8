namespace ContactGrains.LoadTest.Tests;

public class LoadOptionsTests
{
    [Theory]
    [InlineData("channel", "--address", "http://10.0.0.1:5000")]
    [InlineData("channel", "--streams", "0")]
    [InlineData("channel", "--max-seconds", "601")]
    [InlineData("ceiling", "--conversations", "0")]
    [InlineData("failover", "--silos", "1")]
    public async Task A_command_line_the_tester_refuses_is_a_usage_error(params string[] args)
    {
        Assert.Equal(2, await LoadCommands.RunAsync(args));
    }
}
