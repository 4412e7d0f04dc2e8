using ContactGrains.Client;
using ContactGrains.Protos.V1;

namespace ContactGrains.Cluster.Tests;

/// <summary>One customer message, from its first send to its acknowledgement.</summary>
internal sealed class SentMessage(string id, int number, int epoch)
{
    public string Id { get; } = id;

    /// <summary>1 for the conversation's first message.</summary>
    public int Number { get; } = number;

    /// <summary>The adapter's epoch when this message was first sent.</summary>
    public int Epoch { get; } = epoch;

    /// <summary>Sends by the driver (the library may write each more than once: <see cref="MessageAck.Attempts"/>).</summary>
    public int Attempts { get; set; }

    /// <summary>The ACCEPTED or DUPLICATE ack that ended its sends; null while unacknowledged.</summary>
    public MessageAck? Ack { get; set; }
}

/// <summary>
/// Every ack a conversation received: when it was sent and answered, and how many streams the
/// adapter had opened by then (<see cref="TestAdapter.ConnectionCount"/>), so an ack with the same
/// count at both ends, above 1, came over a stream opened after a reconnection.
/// </summary>
internal sealed record AckRecord(string CorrelationId, int ConnectionAtSend, int ConnectionAtAck, TimeSpan SentAt, TimeSpan ReceivedAt, MessageAck Ack)
{
    public bool IsUnavailable => Ack is { Status: AckStatus.Rejected, Code: Grpc.Core.StatusCode.Unavailable };

    /// <summary>The library wrote the message on more than one stream (it broke before the ack).</summary>
    public bool WasResent => Ack.Attempts > 1;
}

/// <summary>
/// One conversation of the <see cref="TestAdapter"/>, in a closed loop: it sends its next message
/// (unique id) when the previous one is acknowledged. A broken stream is the library's business: it
/// resumes the conversation and writes the message again on the next stream, and the ack comes from
/// there. REJECTED UNAVAILABLE (or ABORTED: a concurrent write won), which the adapter's connection
/// returns as it comes: the same id again after a pause. Any other ack fails the run.
/// </summary>
internal sealed class ConversationDriver(string threadId, string customerId)
{
    public static readonly TimeSpan RetryPause = TimeSpan.FromMilliseconds(250);

    private readonly Lock _lock = new();
    private readonly List<SentMessage> _messages = [];
    private readonly List<AckRecord> _acks = [];
    private int _acknowledged;
    private string? _conversationId;

    public string ThreadId { get; } = threadId;

    public string CustomerId { get; } = customerId;

    public string? ConversationId => Volatile.Read(ref _conversationId);

    public int Acknowledged => Volatile.Read(ref _acknowledged);

    public IReadOnlyList<SentMessage> Messages
    {
        get
        {
            lock (_lock)
            {
                return [.. _messages];
            }
        }
    }

    public IReadOnlyList<AckRecord> Acks
    {
        get
        {
            lock (_lock)
            {
                return [.. _acks];
            }
        }
    }

    /// <summary>Messages first sent in <paramref name="epoch"/> or later that were acknowledged.</summary>
    public int AcknowledgedSince(int epoch)
    {
        lock (_lock)
        {
            return _messages.Count(m => m.Epoch >= epoch && m.Ack is not null);
        }
    }

    /// <summary>Runs the loop until <paramref name="done"/> holds between two messages.</summary>
    public async Task RunAsync(TestAdapter adapter, Func<ConversationDriver, bool> done, TimeSpan think, CancellationToken cancellationToken)
    {
        SentMessage? pending = null;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (pending is null)
            {
                if (done(this))
                {
                    return;
                }

                int count;
                lock (_lock)
                {
                    count = _messages.Count;
                }

                if (count > 0)
                {
                    await Task.Delay(think, cancellationToken);
                }

                pending = new SentMessage($"{ThreadId}-m{count + 1}", count + 1, adapter.Epoch);
                lock (_lock)
                {
                    _messages.Add(pending);
                }
            }

            pending.Attempts++;
            var sentAt = adapter.Now;
            var connectionAtSend = adapter.ConnectionCount;
            var ack = await adapter.Connection.SendAsync(new InboundMessage
            {
                MessageId = pending.Id,
                Conversation = ConversationAddress.ForThread(ThreadId),
                Customer = new CustomerIdentity { ExternalCustomerId = CustomerId, DisplayName = $"Customer {CustomerId}", Language = "en" },
                Text = SampleQuestions.All[pending.Number % SampleQuestions.All.Length].Text,
            }, cancellationToken);
            lock (_lock)
            {
                _acks.Add(new AckRecord(pending.Id, connectionAtSend, adapter.ConnectionCount, sentAt, adapter.Now, ack));
            }

            switch (ack.Status)
            {
                case AckStatus.Accepted or AckStatus.Duplicate:
                    if (Interlocked.CompareExchange(ref _conversationId, ack.ConversationId, null) is { } known && known != ack.ConversationId)
                    {
                        throw new InvalidOperationException($"Thread {ThreadId}: message {pending.Id} landed in conversation {ack.ConversationId}, not {known}.");
                    }

                    lock (_lock)
                    {
                        pending.Ack = ack;
                    }

                    Interlocked.Increment(ref _acknowledged);
                    pending = null;
                    break;

                case AckStatus.Rejected when ack.Code is Grpc.Core.StatusCode.Unavailable or Grpc.Core.StatusCode.Aborted:
                    await Task.Delay(RetryPause, cancellationToken);
                    break;

                default:
                    throw new InvalidOperationException($"Thread {ThreadId}: unexpected ack for message {pending.Id}: {ack}");
            }
        }
    }
}
