namespace ContactGrains.Grains.Conversations;

/// <summary>
/// A token bucket: up to <see cref="Burst"/> messages at once, refilled at <see cref="PerMinute"/>
/// a minute. A person typing never meets it; a runaway adapter or a script flooding one
/// conversation does, and is told how long to wait. Kept in memory: a reactivated conversation
/// starts with a full bucket, which is the generous side.
/// </summary>
public sealed class MessageRateLimit(int burst, int perMinute)
{
    private double _tokens = burst;
    private DateTimeOffset? _refilledAt;

    public int Burst => burst;

    public int PerMinute => perMinute;

    /// <summary>Takes one message's token: null when it may go on, otherwise how long until it may.</summary>
    public TimeSpan? TryTake(DateTimeOffset now)
    {
        if (_refilledAt is not { } last || now > last)
        {
            // A clock that steps back neither refills the bucket nor moves its refill time back.
            if (_refilledAt is { } previous)
            {
                _tokens = Math.Min(burst, _tokens + ((now - previous).TotalMinutes * perMinute));
            }

            _refilledAt = now;
        }
        if (_tokens >= 1)
        {
            _tokens -= 1;
            return null;
        }

        // Rounded up to whole milliseconds, so that retrying after the hint always succeeds.
        return TimeSpan.FromMilliseconds(Math.Ceiling((1 - _tokens) / perMinute * 60_000));
    }
}
