namespace ContactGrains.Client;

/// <summary>
/// When a connection retries after its stream broke: exponential backoff with jitter, for a bounded
/// number of attempts in a row. An attempt that received anything from the server resets the count,
/// so a connection that breaks once an hour never runs out of attempts.
/// </summary>
public sealed record ReconnectPolicy
{
    /// <summary>The default: 8 attempts, from 200 ms doubling up to 5 s (about 20 s in all).</summary>
    public static ReconnectPolicy Default { get; } = new();

    /// <summary>Never reconnect: the first broken stream fails the connection.</summary>
    public static ReconnectPolicy None { get; } = new() { MaxAttempts = 0 };

    /// <summary>Attempts in a row without hearing from a server before the connection gives up.</summary>
    public int MaxAttempts { get; init; } = 8;

    /// <summary>The pause before the first attempt; each later one doubles it.</summary>
    public TimeSpan InitialDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest pause between two attempts.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The pause before attempt <paramref name="attempt"/> (1-based): the doubled delay, capped, then
    /// scaled by a random factor in [0.5, 1] so that many clients cut off at once do not return at once.
    /// </summary>
    public TimeSpan DelayBefore(int attempt, double random)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(attempt, 1);
        var doubled = InitialDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 30));
        var capped = Math.Min(doubled, MaxDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped * (0.5 + (Math.Clamp(random, 0, 1) / 2)));
    }
}
