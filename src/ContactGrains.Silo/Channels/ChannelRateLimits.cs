using System.Collections.Concurrent;
using System.Globalization;
using ContactGrains.Contracts;
using ContactGrains.Grains.Conversations;
using ContactGrains.Silo.Hosting;

namespace ContactGrains.Silo.Channels;

/// <summary>
/// Each channel's customer messages pass one token bucket per silo, so one adapter's flood cannot
/// take a silo from the others. The conversation grain has its own, smaller bucket
/// (<see cref="ConversationOptions.MessagesPerMinute"/>) against a flood on one conversation.
/// </summary>
public sealed class ChannelRateLimits(ContactGrainsOptions options, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, MessageRateLimit> _buckets = new(StringComparer.Ordinal);

    /// <summary>Null when the message may go on; otherwise the refusal, with how long to wait.</summary>
    public Rejection? TryAcquire(string channel)
    {
        var bucket = _buckets.GetOrAdd(channel, name =>
        {
            var perSecond = options.Limits.MessagesPerSecond(name);
            return new MessageRateLimit(burst: perSecond, perMinute: perSecond * 60);
        });

        TimeSpan? wait;
        lock (bucket)
        {
            wait = bucket.TryTake(time.GetUtcNow());
        }

        return wait is null
            ? null
            : new Rejection(RejectionCode.RateLimited, string.Create(CultureInfo.InvariantCulture,
                $"Too many messages on channel '{channel}': this silo takes {bucket.Burst} a second from it. The message was not processed now; send it again in {wait.Value.TotalSeconds:0.000} s (a resend of a stored message is still recognised)."),
                wait);
    }
}
