namespace ContactGrains.LoadTest.Tests;

public class SoakDriftTests
{
    private static SoakSample Sample(int index, bool full, double p99Ms, double? rssMiB) =>
        new(index, index * 10, 10, full, 1000, 100, 1, p99Ms, rssMiB, null);

    [Fact]
    public void Drift_compares_the_last_full_interval_with_the_first()
    {
        var drift = SoakDrift.Compute(
        [
            Sample(1, full: true, p99Ms: 10, rssMiB: 100),
            Sample(2, full: true, p99Ms: 15, rssMiB: 110),
            Sample(3, full: true, p99Ms: 20, rssMiB: 150),
            Sample(4, full: false, p99Ms: 99, rssMiB: 999), // cut short by the end of the run
        ]);

        Assert.Equal(new SoakDrift(1, 3, 2.0, 1.5), drift);
    }

    [Fact]
    public void A_short_first_interval_is_skipped()
    {
        var drift = SoakDrift.Compute(
        [
            Sample(1, full: false, p99Ms: 1, rssMiB: 1),
            Sample(2, full: true, p99Ms: 8, rssMiB: 200),
            Sample(3, full: true, p99Ms: 6, rssMiB: 100),
        ]);

        Assert.Equal(new SoakDrift(2, 3, 0.75, 0.5), drift);
    }

    [Fact]
    public void Ratios_are_unknown_without_the_silos_memory_or_with_a_zero_first_value()
    {
        var drift = SoakDrift.Compute([Sample(1, true, 0, null), Sample(2, true, 5, null)]);

        Assert.Equal(new SoakDrift(1, 2, null, null), drift);
    }

    [Fact]
    public void Fewer_than_two_full_intervals_have_no_drift()
    {
        Assert.Null(SoakDrift.Compute([]));
        Assert.Null(SoakDrift.Compute([Sample(1, true, 5, 100), Sample(2, false, 5, 100)]));
    }

    [Theory]
    [InlineData(10.0, 10.0, true)]
    [InlineData(9.0, 10.0, true)]
    [InlineData(8.99, 10.0, false)]
    [InlineData(0.1, 1.0, false)]
    public void An_interval_within_a_tenth_of_its_period_is_full(double seconds, double period, bool expected)
    {
        Assert.Equal(expected, SoakSample.IsFull(seconds, period));
    }
}
