namespace ContactGrains.Client.Tests;

public sealed class ReconnectPolicyTests
{
    private static readonly ReconnectPolicy Policy = new() { InitialDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromSeconds(2) };

    [Theory]
    [InlineData(1, 100)]
    [InlineData(2, 200)]
    [InlineData(3, 400)]
    [InlineData(5, 1600)]
    [InlineData(6, 2000)] // capped
    [InlineData(60, 2000)] // no overflow however many attempts
    public void Delays_double_up_to_the_cap(int attempt, double expectedMs)
    {
        Assert.Equal(expectedMs, Policy.DelayBefore(attempt, random: 1).TotalMilliseconds, precision: 6);
        Assert.Equal(expectedMs / 2, Policy.DelayBefore(attempt, random: 0).TotalMilliseconds, precision: 6);
    }

    [Fact]
    public void Jitter_stays_between_half_and_the_whole_delay()
    {
        var random = new Random(7);
        for (var i = 0; i < 1000; i++)
        {
            var delay = Policy.DelayBefore(3, random.NextDouble()).TotalMilliseconds;
            Assert.InRange(delay, 200, 400);
        }
    }

    [Fact]
    public void Attempts_are_counted_from_one()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Policy.DelayBefore(0, 0.5));
    }
}
