namespace ContactGrains.LoadTest.Tests;

public class CeilingTests
{
    [Theory]
    [InlineData(250.0, 1000.0, 0.25)]
    [InlineData(1000.0, 1000.0, 1.0)]
    [InlineData(0.0, 1000.0, 0.0)]
    public void Share_is_the_measured_figure_over_the_ceiling(double measured, double ceiling, double share)
    {
        Assert.Equal(share, Ceiling.Share(measured, ceiling));
    }

    [Fact]
    public void Share_of_an_unknown_or_empty_ceiling_is_unknown()
    {
        Assert.Null(Ceiling.Share(10, 0));
        Assert.Null(Ceiling.Share(null, 10));
        Assert.Null(Ceiling.Share(10, null));
    }

    [Fact]
    public void Cpu_per_message_is_in_microseconds_and_unknown_without_messages_or_cpu_time()
    {
        Assert.Equal(150, Ceiling.MicrosecondsPerMessage(0.3, 2000));
        Assert.Null(Ceiling.MicrosecondsPerMessage(0.3, 0));
        Assert.Null(Ceiling.MicrosecondsPerMessage(null, 10));
    }
}
