namespace ContactGrains.Grains.Tests;

/// <summary>Polls a grain until it reaches the state a test waits for, within a safety limit (not a timing assertion).</summary>
internal static class Eventually
{
    public static readonly TimeSpan SafetyTimeout = TimeSpan.FromSeconds(30);

    public static async Task<T> ReadAsync<T>(Func<Task<T>> read, Func<T, bool> done)
    {
        var deadline = DateTimeOffset.UtcNow + SafetyTimeout;
        while (true)
        {
            var value = await read();
            if (done(value) || DateTimeOffset.UtcNow > deadline)
            {
                Assert.True(done(value), $"Still not the expected state after {SafetyTimeout.TotalSeconds:0} s: {value}");
                return value;
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Waits until the cluster holds no activation of <paramref name="grain"/>; fails if it stays.</summary>
    public static async Task ActivationGoneAsync(IGrainFactory grains, GrainId grain)
    {
        var management = grains.GetGrain<IManagementGrain>(0);
        await ReadAsync(async () => (await management.GetDetailedGrainStatistics()).Count(activation => activation.GrainId == grain), count => count == 0);
    }
}
