namespace ContactGrains.LoadTest.Tests;

public sealed class IdleMemoryTests
{
    [Theory]
    [InlineData(new[] { 10_000, 100_000, 1_000_000 }, 1_000_000, new[] { 10_000, 100_000, 1_000_000 })]
    [InlineData(new[] { 10_000, 100_000, 1_000_000 }, 50_000, new[] { 10_000, 50_000 })]
    [InlineData(new[] { 50, 20, 50 }, 50, new[] { 20, 50 })]
    [InlineData(new[] { 100 }, 30, new[] { 30 })]
    [InlineData(new int[0], 5, new[] { 5 })]
    public void Checkpoints_are_ascending_once_each_and_end_at_the_maximum(int[] checkpoints, int max, int[] plan) =>
        Assert.Equal(plan, IdleMemory.Plan(checkpoints, max));

    [Theory]
    [InlineData("VmRSS:\t 1814504 kB", 1_814_504)] // under 10 GB: the kernel pads the number with spaces
    [InlineData("VmRSS:\t16147184 kB", 16_147_184)] // from 10 GB up: no space after the tab
    [InlineData("VmRSS:\t     812 kB", 812)]
    [InlineData("VmRSS: 123456789 kB", 123_456_789)]
    public void Resident_memory_is_read_from_a_proc_status_line_at_any_size(string line, double kib) =>
        Assert.Equal(kib, Stats.StatusKiB(line));

    [Theory]
    [InlineData("VmRSS:")]
    [InlineData("VmRSS:\tkB")]
    public void A_status_line_without_a_figure_is_refused_with_the_line(string line) =>
        Assert.Contains(line, Assert.Throws<FormatException>(() => Stats.StatusKiB(line)).Message);

    [Fact]
    public void Memory_per_conversation_is_taken_against_the_start_and_against_the_previous_checkpoint()
    {
        var rows = IdleMemory.Compute(100, [(10_000, 120), (100_000, 280), (1_000_000, 1_780)]);
        Assert.Equal(
        [
            // 20 MiB over 10,000: 2.048 KiB each; the first step's marginal cost is the same.
            new MemoryCheckpoint(10_000, 120, 20, 2.048, 2.048),
            // 180 MiB over 100,000: 1.8432 KiB; 160 MiB over the 90,000 since: 1.82 KiB.
            new MemoryCheckpoint(100_000, 280, 180, 1.8432, 160 * 1024 / 90_000.0),
            // 1,680 MiB over 1,000,000: 1.72032 KiB; 1,500 MiB over the 900,000 since.
            new MemoryCheckpoint(1_000_000, 1_780, 1_680, 1.72032, 1_500 * 1024 / 900_000.0),
        ],
            rows,
            (expected, actual) => expected.Conversations == actual.Conversations
                && Math.Abs(expected.ResidentMiB - actual.ResidentMiB) < 1e-9 && Math.Abs(expected.GrowthMiB - actual.GrowthMiB) < 1e-9
                && Math.Abs(expected.KiBPerConversation - actual.KiBPerConversation) < 1e-9
                && Math.Abs(expected.KiBPerConversationSincePrevious - actual.KiBPerConversationSincePrevious) < 1e-9);
    }

    [Fact]
    public void Memory_that_shrank_gives_a_negative_figure_rather_than_hiding_it()
    {
        var rows = IdleMemory.Compute(200, [(1_000, 190)]);
        Assert.Equal(-10, rows[0].GrowthMiB);
        Assert.Equal(-10.24, rows[0].KiBPerConversation, precision: 9);
    }
}
