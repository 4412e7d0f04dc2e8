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

    public int Attempts { get; set; }

    /// <summary>The ACCEPTED or DUPLICATE ack that ended its resends; null while unacknowledged.</summary>
    public Ack? Ack { get; set; }
}

/// <summary>Every ack a conversation received, with when its frame was sent and when the ack arrived.</summary>
internal sealed record AckRecord(string CorrelationId, bool IsResume, int Generation, TimeSpan SentAt, TimeSpan ReceivedAt, Ack Ack)
{
    public bool IsUnavailable => Ack is { Status: AckStatus.Rejected, Code: (int)Grpc.Core.StatusCode.Unavailable };
}

/// <summary>
/// One conversation of the <see cref="TestAdapter"/>, in a closed loop: it sends its next message
/// (unique id) when the previous one is acknowledged. REJECTED UNAVAILABLE: resend the same id after
/// a pause (ABORTED too: a concurrent write won). Stream broken: on the adapter's next connection, resume after the last sequence received,
/// then resend the same id. Any other ack fails the run.
/// </summary>
internal sealed class ConversationDriver(string threadId, string customerId)
{
    public static readonly TimeSpan RetryPause = TimeSpan.FromMilliseconds(250);

    private readonly Lock _lock = new();
    private readonly List<SentMessage> _messages = [];
    private readonly List<AckRecord> _acks = [];
    private int _acknowledged;
    private int _generation;
    private int _resumes;
    private string? _conversationId;

    public string ThreadId { get; } = threadId;

    public string CustomerId { get; } = customerId;

    public string? ConversationId => Volatile.Read(ref _conversationId);

    public int Acknowledged => Volatile.Read(ref _acknowledged);

    public int Resumes => Volatile.Read(ref _resumes);

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

            var connection = await adapter.LiveConnectionAsync(cancellationToken);
            try
            {
                if (ConversationId is { } conversationId && _generation != connection.Generation)
                {
                    // A new connection: first take the conversation over from where this adapter's
                    // entries stopped, then resend what the old connection never acknowledged.
                    var requestId = $"{ThreadId}-resume{_resumes + 1}-g{connection.Generation}";
                    var resume = await SendAsync(adapter, connection, new ChannelUpstream
                    {
                        Resume = new ResumeRequest
                        {
                            Conversation = new ConversationAddress { ExternalThreadId = ThreadId },
                            AfterSequence = (ulong)adapter.LastReceived(conversationId),
                            RequestId = requestId,
                        },
                    }, requestId, isResume: true, cancellationToken);
                    if (resume.Status == AckStatus.Accepted && resume.ConversationId == conversationId)
                    {
                        _generation = connection.Generation;
                        Interlocked.Increment(ref _resumes);
                    }
                    else if (resume is { Status: AckStatus.Rejected, Code: (int)Grpc.Core.StatusCode.Unavailable or (int)Grpc.Core.StatusCode.Aborted })
                    {
                        await Task.Delay(RetryPause, cancellationToken);
                        continue;
                    }
                    else
                    {
                        throw new InvalidOperationException($"Thread {ThreadId}: unexpected ack for resume {requestId}: {resume}");
                    }
                }

                pending.Attempts++;
                var ack = await SendAsync(adapter, connection, new ChannelUpstream
                {
                    Message = new InboundMessage
                    {
                        MessageId = pending.Id,
                        Conversation = new ConversationAddress { ExternalThreadId = ThreadId },
                        Customer = new CustomerIdentity { ExternalCustomerId = CustomerId, DisplayName = $"Customer {CustomerId}", Language = "en" },
                        Text = SampleQuestions.All[pending.Number % SampleQuestions.All.Length].Text,
                    },
                }, pending.Id, isResume: false, cancellationToken);
                switch (ack.Status)
                {
                    case AckStatus.Accepted or AckStatus.Duplicate:
                        if (Interlocked.CompareExchange(ref _conversationId, ack.ConversationId, null) is { } known && known != ack.ConversationId)
                        {
                            throw new InvalidOperationException($"Thread {ThreadId}: message {pending.Id} landed in conversation {ack.ConversationId}, not {known}.");
                        }

                        _generation = connection.Generation;
                        lock (_lock)
                        {
                            pending.Ack = ack;
                        }

                        Interlocked.Increment(ref _acknowledged);
                        pending = null;
                        break;

                    case AckStatus.Rejected when ack.Code is (int)Grpc.Core.StatusCode.Unavailable or (int)Grpc.Core.StatusCode.Aborted:
                        await Task.Delay(RetryPause, cancellationToken);
                        break;

                    default:
                        throw new InvalidOperationException($"Thread {ThreadId}: unexpected ack for message {pending.Id}: {ack}");
                }
            }
            catch (StreamBrokenException)
            {
                // The adapter reconnects; the next round resumes and resends the same id.
            }
        }
    }

    private async Task<Ack> SendAsync(TestAdapter adapter, AdapterConnection connection, ChannelUpstream frame, string correlationId, bool isResume, CancellationToken cancellationToken)
    {
        var sentAt = adapter.Now;
        var ack = await connection.SendAsync(frame, correlationId, cancellationToken);
        lock (_lock)
        {
            _acks.Add(new AckRecord(correlationId, isResume, connection.Generation, sentAt, adapter.Now, ack));
        }

        return ack;
    }
}
