using System.Collections.Concurrent;
using ContactGrains.Client;
using ContactGrains.Protos.V1;
using Grpc.Core;

namespace ContactGrains.EndToEnd.Tests;

/// <summary>
/// A test adapter on the client library: one <see cref="ChannelConnection"/>, and one reader of all
/// its entries (<see cref="ChannelConnection.ReadAllAsync"/>) that files them per conversation for
/// waits and assertions. The library does the acks, the sequencing and the resumes; this only keeps
/// what it delivered. For frames the library would never send, see <see cref="RawChannelStream"/>.
/// </summary>
internal sealed class AdapterStream : IAsyncDisposable
{
    private static readonly TimeSpan SafetyTimeout = TimeSpan.FromSeconds(60);
    private readonly Lock _lock = new();
    private readonly Dictionary<string, List<TimelineEntry>> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task<MessageAck>> _sends = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _conversations = new(StringComparer.Ordinal);
    private readonly StateChanges _changes = new();
    private readonly bool _closeConversationsOnDispose;
    private readonly Task _reader;
    private Exception? _readFailure;

    /// <param name="client">The adapter to connect as: its channel and gRPC channel.</param>
    /// <param name="closeConversationsOnDispose">
    /// Close every conversation a message of this adapter was stored in when disposed, so that none is
    /// left waiting in a queue that a later test of the same silo uses.
    /// </param>
    public AdapterStream(SiloChannelClient client, bool closeConversationsOnDispose = false)
    {
        _closeConversationsOnDispose = closeConversationsOnDispose;
        Connection = ChannelConnection.Open(new ChannelConnectionOptions
        {
            Channel = client.Channel,
            GrpcChannels = [client.GrpcChannel],
            AckTimeout = SafetyTimeout,
            CallTimeout = SafetyTimeout,
        });

        // Called here, not on another task: the reader is registered before the first message is sent.
        _reader = ReadAsync();
    }

    /// <summary>The library connection, for what this helper does not wrap.</summary>
    public ChannelConnection Connection { get; }

    /// <summary>Sends one customer message and returns its ack, whether accepted, duplicate or rejected.</summary>
    public async Task<MessageAck> SendMessageAsync(string messageId, ConversationAddress address, string text, CustomerIdentity? customer = null)
    {
        var send = Connection.SendAsync(messageId, address, text, customer);
        _sends[messageId] = send;
        var ack = await send;
        if (ack.ConversationId.Length > 0)
        {
            _conversations.TryAdd(ack.ConversationId, true);
        }

        return ack;
    }

    /// <summary>The ack of the latest message sent with <paramref name="messageId"/>.</summary>
    public Task<MessageAck> AckAsync(string messageId) =>
        _sends.TryGetValue(messageId, out var send)
            ? send.WaitAsync(SafetyTimeout)
            : throw new InvalidOperationException($"No message '{messageId}' was sent on this adapter.");

    /// <summary>
    /// A new customer who asks the bot <paramref name="question"/> (none: nothing) and then for a human,
    /// in <paramref name="language"/>. The question's skill and the language pick the queue. Returns the
    /// conversation id once the customer was told they are queued.
    /// </summary>
    public async Task<string> AskForHumanAsync(string? question, string language = "en", CustomerIdentity? customer = null)
    {
        customer ??= Addresses.Customer(Addresses.Unique("cust"), language);
        var address = Addresses.Thread(Addresses.Unique("thread"));
        string? conversationId = null;
        foreach (var text in new[] { question, language == "fr" ? "Je veux parler à un conseiller" : "I want to speak to a human" })
        {
            if (text is null)
            {
                continue;
            }

            var ack = await SendMessageAsync(Addresses.Unique("m"), address, text, customer);
            if (ack.Status != AckStatus.Accepted)
            {
                throw new InvalidOperationException($"'{text}' was not accepted: {ack}");
            }

            conversationId = ack.ConversationId;
            address = Addresses.Conversation(conversationId);
        }

        await WaitUntilAsync(() => EntriesOf(conversationId!).Any(e => e.Status?.Kind == StatusKind.Queued));
        return conversationId!;
    }

    /// <summary>Sends one customer message to an existing conversation and returns its ack.</summary>
    public Task<MessageAck> SayAsync(string conversationId, string text) =>
        SendMessageAsync(Addresses.Unique("m"), Addresses.Conversation(conversationId), text);

    /// <summary>The customer's adapter closes the conversation.</summary>
    public Task<ConversationView> CloseConversationAsync(string conversationId) =>
        Connection.CloseConversationAsync(Addresses.Conversation(conversationId));

    /// <summary>The entries the library delivered for a conversation: in sequence, each once.</summary>
    public IReadOnlyList<TimelineEntry> EntriesOf(string conversationId)
    {
        lock (_lock)
        {
            return _entries.TryGetValue(conversationId, out var entries) ? [.. entries] : [];
        }
    }

    public Task WaitForEntriesAsync(string conversationId, int count) => WaitUntilAsync(() => EntriesOf(conversationId).Count >= count);

    public Task WaitUntilAsync(Func<bool> condition) =>
        _changes.WaitUntilAsync(
            () => _readFailure is { } failure ? throw new InvalidOperationException("The adapter's connection failed.", failure) : condition(),
            SafetyTimeout);

    public async ValueTask DisposeAsync()
    {
        if (_closeConversationsOnDispose)
        {
            foreach (var conversationId in _conversations.Keys)
            {
                try
                {
                    await CloseConversationAsync(conversationId);
                }
                catch (RpcException)
                {
                    // Best effort: a failure here must not hide the test's own outcome.
                }
            }
        }

        await Connection.DisposeAsync();
        await _reader;
    }

    private async Task ReadAsync()
    {
        try
        {
            await foreach (var entry in Connection.ReadAllAsync())
            {
                lock (_lock)
                {
                    if (!_entries.TryGetValue(entry.ConversationId, out var entries))
                    {
                        _entries[entry.ConversationId] = entries = [];
                    }

                    entries.Add(entry);
                }

                _changes.Changed();
            }
        }
        catch (Exception ex) when (ex is ConnectionFailedException or ObjectDisposedException)
        {
            _readFailure = ex;
        }
        finally
        {
            _changes.Changed();
        }
    }
}
