using System.Collections.Concurrent;
using ContactGrains.Protos.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace ContactGrains.EchoServer;

/// <summary>What one upstream frame produced: its ack, and the entries owed to the stream that sent it (in sequence).</summary>
internal sealed record EchoResult(Ack Ack, IReadOnlyList<TimelineEntry> Entries);

/// <summary>
/// The conversations of the echo server, in memory, shaped as the silo's: a conversation is opened by
/// its thread's first message (STARTED, sequence 1); each customer message is stored once under its
/// adapter message id and answered at once by a bot message echoing it. The first message also owes
/// the adapter the opening, so a conversation of n turns reaches its adapter as 1 + 2n entries, with
/// sequences 1, 2, 3… and no gap. A resent id is acknowledged as DUPLICATE with the original's
/// sequence, and its entries are sent again from the original on. Thread-safe.
/// </summary>
/// <remarks>
/// Entries go only to the stream whose frame produced them (no delivery to other connections): the
/// load generator carries each conversation on one stream.
/// </remarks>
internal sealed class EchoTimeline(TimeProvider time)
{
    private readonly ConcurrentDictionary<(string Channel, string Thread), Conversation> _byThread = new();
    private readonly ConcurrentDictionary<string, Conversation> _byId = new(StringComparer.Ordinal);

    /// <summary>A customer message, by conversation id or by thread (a thread's first message opens its conversation).</summary>
    public EchoResult Receive(string channel, InboundMessage message)
    {
        if (string.IsNullOrEmpty(message.MessageId) || string.IsNullOrWhiteSpace(message.Text))
        {
            return Refused(message.MessageId, StatusCode.InvalidArgument, "message_id and text are required.");
        }

        var conversation = message.Conversation?.AddressCase == ConversationAddress.AddressOneofCase.ExternalThreadId
            && !string.IsNullOrEmpty(message.Customer?.ExternalCustomerId)
                ? Open(channel, message.Conversation.ExternalThreadId, message.Customer, out _)
                : Find(channel, message.Conversation);
        if (conversation is null)
        {
            return Refused(message.MessageId, StatusCode.NotFound,
                "No such conversation on this channel (a thread's first message must carry the customer).");
        }

        lock (conversation)
        {
            if (conversation.MessageSequences.TryGetValue(message.MessageId, out var original))
            {
                // As the silo: everything from the original on is owed again, and from the start if it opened the conversation.
                var from = original == 2 ? 0 : original - 1;
                return new EchoResult(Acknowledged(message.MessageId, AckStatus.Duplicate, conversation.Id, original), conversation.After(from));
            }

            var produced = new List<TimelineEntry>(conversation.Answered ? 2 : 1 + conversation.Entries.Count);
            if (!conversation.Answered)
            {
                produced.AddRange(conversation.Entries);
                conversation.Answered = true;
            }

            var now = Timestamp.FromDateTimeOffset(time.GetUtcNow());
            var customer = conversation.Append(now, new ChatMessage { Sender = SenderKind.Customer, Text = message.Text, AdapterMessageId = message.MessageId });
            conversation.MessageSequences[message.MessageId] = customer.Sequence;
            produced.Add(customer);
            produced.Add(conversation.Append(now, new ChatMessage
            {
                Sender = SenderKind.Bot,
                Text = message.Text,
                Bot = new BotAnswer { Intent = "echo", Confidence = 1, Understood = true, Language = conversation.Language },
            }));
            return new EchoResult(Acknowledged(message.MessageId, AckStatus.Accepted, conversation.Id, customer.Sequence), produced);
        }
    }

    /// <summary>Every entry after <see cref="ResumeRequest.AfterSequence"/>; the ack carries the last sequence.</summary>
    public EchoResult Resume(string channel, ResumeRequest resume)
    {
        if (Find(channel, resume.Conversation) is not { } conversation)
        {
            return Refused(resume.RequestId, StatusCode.NotFound, "No such conversation on this channel.");
        }

        lock (conversation)
        {
            var last = (ulong)conversation.Entries.Count;
            return resume.AfterSequence > last
                ? Refused(resume.RequestId, StatusCode.OutOfRange, $"after_sequence {resume.AfterSequence} is beyond this conversation's last entry, {last}.")
                : new EchoResult(Acknowledged(resume.RequestId, AckStatus.Accepted, conversation.Id, last), conversation.After(resume.AfterSequence));
        }
    }

    /// <summary>The conversation of a thread, opened (STARTED) if new; the flag says whether it was.</summary>
    public (ConversationView View, bool Created) Start(string channel, string thread, CustomerIdentity customer)
    {
        var conversation = Open(channel, thread, customer, out var created);
        return (View(conversation), created);
    }

    /// <summary>A conversation by id or thread on <paramref name="channel"/>, or null.</summary>
    public ConversationView? Get(string channel, ConversationAddress? address) =>
        Find(channel, address) is { } conversation ? View(conversation) : null;

    /// <summary>Up to <paramref name="max"/> entries after <paramref name="after"/>, and the last sequence; null if there is no such conversation.</summary>
    public (string ConversationId, IReadOnlyList<TimelineEntry> Entries, ulong Last)? Transcript(string channel, ConversationAddress? address, ulong after, int max)
    {
        if (Find(channel, address) is not { } conversation)
        {
            return null;
        }

        lock (conversation)
        {
            return (conversation.Id, conversation.After(after).Take(max).ToList(), (ulong)conversation.Entries.Count);
        }
    }

    private Conversation Open(string channel, string thread, CustomerIdentity customer, out bool created)
    {
        if (_byThread.TryGetValue((channel, thread), out var existing))
        {
            created = false;
            return existing;
        }

        // Of two first messages racing, one opens the conversation; the other's candidate is never seen.
        var candidate = new Conversation(Guid.CreateVersion7().ToString("N"), channel, thread, customer, Timestamp.FromDateTimeOffset(time.GetUtcNow()));
        var conversation = _byThread.GetOrAdd((channel, thread), candidate);
        created = ReferenceEquals(conversation, candidate);
        _byId.TryAdd(conversation.Id, conversation);
        return conversation;
    }

    private Conversation? Find(string channel, ConversationAddress? address)
    {
        var conversation = address?.AddressCase switch
        {
            ConversationAddress.AddressOneofCase.ConversationId => _byId.GetValueOrDefault(address.ConversationId),
            ConversationAddress.AddressOneofCase.ExternalThreadId => _byThread.GetValueOrDefault((channel, address.ExternalThreadId)),
            _ => null,
        };
        return conversation?.Channel == channel ? conversation : null;
    }

    private static ConversationView View(Conversation conversation)
    {
        lock (conversation)
        {
            return new ConversationView
            {
                ConversationId = conversation.Id,
                Channel = conversation.Channel,
                ExternalThreadId = conversation.Thread,
                CustomerId = conversation.CustomerId,
                Status = ConversationStatus.Open,
                Owner = new Owner { Kind = OwnerKind.Bot },
                LastSequence = (ulong)conversation.Entries.Count,
                StartedAt = conversation.Entries[0].Time,
            };
        }
    }

    private static Ack Acknowledged(string correlationId, AckStatus status, string conversationId, ulong sequence) =>
        new() { CorrelationId = correlationId, Status = status, ConversationId = conversationId, Sequence = sequence };

    private static EchoResult Refused(string correlationId, StatusCode code, string detail) =>
        new(new Ack { CorrelationId = correlationId, Status = AckStatus.Rejected, Code = (int)code, Detail = detail }, []);

    /// <summary>One conversation; every member is read and written under its lock.</summary>
    private sealed class Conversation
    {
        public Conversation(string id, string channel, string thread, CustomerIdentity customer, Timestamp startedAt)
        {
            Id = id;
            Channel = channel;
            Thread = thread;
            CustomerId = customer.ExternalCustomerId;
            Language = string.IsNullOrEmpty(customer.Language) ? "en" : customer.Language;
            Append(startedAt, new StatusEvent { Kind = StatusKind.Started });
        }

        public string Id { get; }

        public string Channel { get; }

        public string Thread { get; }

        public string CustomerId { get; }

        public string Language { get; }

        /// <summary>Entry n has sequence n + 1.</summary>
        public List<TimelineEntry> Entries { get; } = [];

        public Dictionary<string, ulong> MessageSequences { get; } = new(StringComparer.Ordinal);

        /// <summary>True once a customer message was answered: its adapter has been sent the opening.</summary>
        public bool Answered { get; set; }

        public TimelineEntry Append(Timestamp time, ChatMessage message) => Append(new TimelineEntry { Message = message }, time);

        public TimelineEntry Append(Timestamp time, StatusEvent status) => Append(new TimelineEntry { Status = status }, time);

        public List<TimelineEntry> After(ulong sequence) => Entries.Skip((int)Math.Min(sequence, (ulong)Entries.Count)).ToList();

        private TimelineEntry Append(TimelineEntry entry, Timestamp time)
        {
            entry.ConversationId = Id;
            entry.Sequence = (ulong)Entries.Count + 1;
            entry.Time = time;
            Entries.Add(entry);
            return entry;
        }
    }
}
