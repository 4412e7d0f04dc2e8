using System.Collections.Concurrent;
using System.Diagnostics;
using ContactGrains.Client;
using ContactGrains.Protos.V1;

namespace ContactGrains.Cluster.Tests;

/// <summary>
/// One customer on one thread, behind an adapter whose Connect stream stays on one silo (a
/// survivor: the adapter's own failover is <see cref="FailoverTests"/>' subject, so a broken stream
/// fails the test). A message is resent with the same id while it is REJECTED UNAVAILABLE (its
/// conversation's silo just died) until acknowledged. Every entry the stream delivers is filed per
/// conversation in arrival order.
/// </summary>
internal sealed class TestCustomer : IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, List<TimelineEntry>> _received = new(StringComparer.Ordinal);
    private readonly List<(string Id, string Text, Ack Ack)> _sent = [];
    private readonly Func<TimeSpan> _now;
    private readonly AdapterConnection _connection;
    private int _messages;

    public TestCustomer(SiloProcess silo, string threadId, string customerId, Func<TimeSpan> now)
    {
        ThreadId = threadId;
        CustomerId = customerId;
        Silo = silo;
        _now = now;
        _connection = new AdapterConnection(1, silo.Address, ChannelClient.Create(silo.Channel, TestAdapter.ChannelName), OnEntry,
            (_, ack) => Note($"unexpected ack {ack}"));
    }

    public string ThreadId { get; }

    public string CustomerId { get; }

    public SiloProcess Silo { get; }

    /// <summary>What the customer sent and saw, stamped with the test's clock.</summary>
    public ConcurrentQueue<string> Log { get; } = new();

    /// <summary>Acknowledged messages, in the order they were sent.</summary>
    public IReadOnlyList<(string Id, string Text, Ack Ack)> Sent
    {
        get
        {
            lock (_lock)
            {
                return [.. _sent];
            }
        }
    }

    /// <summary>Sends one message on the thread and returns its ACCEPTED (or, for a resend, DUPLICATE) ack.</summary>
    public async Task<Ack> SayAsync(string text, TimeSpan timeout)
    {
        var id = $"{ThreadId}-m{Interlocked.Increment(ref _messages)}";
        var deadline = Stopwatch.StartNew();
        for (var attempt = 1; ; attempt++)
        {
            using var patience = new CancellationTokenSource(timeout - deadline.Elapsed is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero);
            var ack = await _connection.SendAsync(new ChannelUpstream
            {
                Message = new InboundMessage
                {
                    MessageId = id,
                    Conversation = new ConversationAddress { ExternalThreadId = ThreadId },
                    Customer = new CustomerIdentity { ExternalCustomerId = CustomerId, DisplayName = "Sam", Language = "en" },
                    Text = text,
                },
            }, id, patience.Token);
            Note($"'{text}' ({id}, attempt {attempt}): {ack.Status}{(ack.Status == AckStatus.Rejected ? $" {(Grpc.Core.StatusCode)ack.Code} {ack.Detail}" : $" #{ack.Sequence}")}");
            if (ack.Status is AckStatus.Accepted or AckStatus.Duplicate)
            {
                lock (_lock)
                {
                    _sent.Add((id, text, ack));
                }

                return ack;
            }

            if (ack is not { Status: AckStatus.Rejected, Code: (int)Grpc.Core.StatusCode.Unavailable } || deadline.Elapsed + ConversationDriver.RetryPause >= timeout)
            {
                throw new InvalidOperationException($"'{text}' ({id}) was not accepted within {timeout.TotalSeconds:0} s: {ack}");
            }

            await Task.Delay(ConversationDriver.RetryPause);
        }
    }

    /// <summary>Entries of a conversation the stream delivered, in arrival order.</summary>
    public IReadOnlyList<TimelineEntry> Received(string conversationId)
    {
        lock (_lock)
        {
            return _received.TryGetValue(conversationId, out var entries) ? [.. entries] : [];
        }
    }

    private void OnEntry(AdapterConnection connection, TimelineEntry entry)
    {
        lock (_lock)
        {
            if (!_received.TryGetValue(entry.ConversationId, out var entries))
            {
                _received[entry.ConversationId] = entries = [];
            }

            entries.Add(entry);
        }

        Note($"received {Entries.Describe(entry)}");
    }

    private void Note(string what) => Log.Enqueue($"{_now().TotalSeconds:0.000}s customer {CustomerId}: {what}");

    public ValueTask DisposeAsync() => _connection.DisposeAsync();
}

/// <summary>Timeline entries in one line each, for comparisons whose failure a person can read.</summary>
internal static class Entries
{
    public static string Describe(TimelineEntry entry) => entry.BodyCase switch
    {
        TimelineEntry.BodyOneofCase.Message => $"#{entry.Sequence} {entry.Message.Sender}{(entry.Message.SenderId.Length > 0 ? $" {entry.Message.SenderId}" : "")}: {entry.Message.Text}",
        TimelineEntry.BodyOneofCase.Status => $"#{entry.Sequence} [{entry.Status.Kind}] {entry.Status.Detail}",
        _ => $"#{entry.Sequence} {entry.BodyCase}",
    };

    public static IReadOnlyList<string> Describe(IEnumerable<TimelineEntry> entries) => [.. entries.Select(Describe)];
}

/// <summary>Bounded waits on conditions that other tasks make true.</summary>
internal static class Eventually
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>Waits until <paramref name="condition"/> holds; after <paramref name="timeout"/>, fails saying what was awaited.</summary>
    public static async Task HoldsAsync(Func<bool> condition, TimeSpan timeout, Func<string> what)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"Still waiting after {timeout.TotalSeconds:0} s for: {what()}.");
            }

            await Task.Delay(PollInterval);
        }
    }
}
