using System.Collections.Concurrent;
using System.Diagnostics;
using ContactGrains.Client;
using ContactGrains.Protos.V1;

namespace ContactGrains.Cluster.Tests;

/// <summary>
/// One customer on one thread, behind an adapter whose <see cref="ChannelConnection"/> stays on one
/// silo (a survivor: the adapter's own failover is <see cref="FailoverTests"/>' subject, so it never
/// reconnects and a broken stream fails the connection, and the test). A message is sent again with
/// the same id while it is REJECTED UNAVAILABLE (its conversation's silo just died) until
/// acknowledged. Every entry the connection's reader gets is filed per conversation in the order read.
/// </summary>
internal sealed class TestCustomer : IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, List<TimelineEntry>> _received = new(StringComparer.Ordinal);
    private readonly List<(string Id, string Text, MessageAck Ack)> _sent = [];
    private readonly Func<TimeSpan> _now;
    private readonly ChannelConnection _connection;
    private readonly CancellationTokenSource _stopReading = new();
    private readonly Task _reader;
    private int _messages;

    public TestCustomer(SiloProcess silo, string threadId, string customerId, Func<TimeSpan> now)
    {
        ThreadId = threadId;
        CustomerId = customerId;
        Silo = silo;
        _now = now;
        _connection = ChannelConnection.Open(new ChannelConnectionOptions
        {
            Channel = TestAdapter.ChannelName,
            GrpcChannels = [silo.Channel],
            Reconnect = ReconnectPolicy.None,
            SendAttempts = 1, // every refusal is logged here, and the customer tries again
            AckTimeout = TimeSpan.FromSeconds(90), // SayAsync's own timeout decides
            OnStateChange = change => Note($"connection {change.State} {change.Address}{(change.Status is { } status ? $" ({status.StatusCode}: {status.Detail})" : "")}"),
        });

        // Subscribed before the constructor returns (see TestAdapter): every entry of the thread is read.
        _reader = ReadAsync();
    }

    public string ThreadId { get; }

    public string CustomerId { get; }

    public SiloProcess Silo { get; }

    /// <summary>What the customer sent and saw, stamped with the test's clock.</summary>
    public ConcurrentQueue<string> Log { get; } = new();

    /// <summary>Acknowledged messages, in the order they were sent.</summary>
    public IReadOnlyList<(string Id, string Text, MessageAck Ack)> Sent
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
    public async Task<MessageAck> SayAsync(string text, TimeSpan timeout)
    {
        var id = $"{ThreadId}-m{Interlocked.Increment(ref _messages)}";
        var deadline = Stopwatch.StartNew();
        for (var attempt = 1; ; attempt++)
        {
            using var patience = new CancellationTokenSource(timeout - deadline.Elapsed is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero);
            var ack = await _connection.SendAsync(new InboundMessage
            {
                MessageId = id,
                Conversation = ConversationAddress.ForThread(ThreadId),
                Customer = new CustomerIdentity { ExternalCustomerId = CustomerId, DisplayName = "Sam", Language = "en" },
                Text = text,
            }, patience.Token);
            Note($"'{text}' ({id}, attempt {attempt}): {ack.Status}{(ack.Status == AckStatus.Rejected ? $" {ack.Code} {ack.Detail}" : $" #{ack.Sequence}")}");
            if (ack.IsStored)
            {
                lock (_lock)
                {
                    _sent.Add((id, text, ack));
                }

                return ack;
            }

            if (ack is not { Status: AckStatus.Rejected, Code: Grpc.Core.StatusCode.Unavailable } || deadline.Elapsed + ConversationDriver.RetryPause >= timeout)
            {
                throw new InvalidOperationException($"'{text}' ({id}) was not accepted within {timeout.TotalSeconds:0} s: {ack}");
            }

            await Task.Delay(ConversationDriver.RetryPause);
        }
    }

    /// <summary>Entries of a conversation the reader got, in the order read.</summary>
    public IReadOnlyList<TimelineEntry> Received(string conversationId)
    {
        lock (_lock)
        {
            return _received.TryGetValue(conversationId, out var entries) ? [.. entries] : [];
        }
    }

    private async Task ReadAsync()
    {
        try
        {
            await foreach (var entry in _connection.ReadAllAsync(_stopReading.Token))
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
        }
        catch (OperationCanceledException) when (_stopReading.IsCancellationRequested)
        {
            // Disposed.
        }
        catch (Exception ex)
        {
            Note($"the reader failed: {ex.GetType().Name}: {ex.Message}");
        }
    }

    private void Note(string what) => Log.Enqueue($"{_now().TotalSeconds:0.000}s customer {CustomerId}: {what}");

    public async ValueTask DisposeAsync()
    {
        await _stopReading.CancelAsync();
        await _connection.DisposeAsync();
        await _reader;
        _stopReading.Dispose();
    }
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
