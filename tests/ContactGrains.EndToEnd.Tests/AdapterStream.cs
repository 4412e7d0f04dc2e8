using System.Collections.Concurrent;
using ContactGrains.Protos.V1;
using Grpc.Core;

namespace ContactGrains.EndToEnd.Tests;

/// <summary>A test adapter: one Connect stream, one writer, one reader that files every frame it receives.</summary>
internal sealed class AdapterStream : IAsyncDisposable
{
    private static readonly TimeSpan SafetyTimeout = TimeSpan.FromSeconds(60);
    private readonly AsyncDuplexStreamingCall<ChannelUpstream, ChannelDownstream> _call;
    private readonly Task _reader;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<Ack>> _acks = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<TimelineEntry>> _entries = new();
    private readonly Lock _lock = new();
    private readonly List<(Func<bool> Condition, TaskCompletionSource Signal)> _waiters = [];
    private readonly SemaphoreSlim _writeLock = new(1);
    private readonly ChannelService.ChannelServiceClient _client;
    private readonly bool _closeConversationsOnDispose;
    private readonly ConcurrentDictionary<string, bool> _conversations = new();

    /// <param name="client">The channel client the stream (and <see cref="CloseConversationAsync"/>) uses.</param>
    /// <param name="closeConversationsOnDispose">
    /// Close every conversation this stream was acknowledged for when disposed, so that none is left
    /// waiting in a queue that a later test of the same silo uses.
    /// </param>
    public AdapterStream(ChannelService.ChannelServiceClient client, bool closeConversationsOnDispose = false)
    {
        _client = client;
        _closeConversationsOnDispose = closeConversationsOnDispose;
        _call = client.Connect();
        _reader = Task.Run(ReadAsync);
    }

    /// <summary>Frames received in arrival order, for order assertions.</summary>
    public ConcurrentQueue<ChannelDownstream> Received { get; } = new();

    public async Task SendAsync(ChannelUpstream frame)
    {
        await _writeLock.WaitAsync();
        try
        {
            await _call.RequestStream.WriteAsync(frame);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public Task SendMessageAsync(string messageId, ConversationAddress address, string text, CustomerIdentity? customer = null) =>
        SendAsync(new ChannelUpstream { Message = new InboundMessage { MessageId = messageId, Conversation = address, Text = text, Customer = customer } });

    public Task<Ack> AckAsync(string correlationId) => AckSource(correlationId).Task.WaitAsync(SafetyTimeout);

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

            var messageId = Addresses.Unique("m");
            await SendMessageAsync(messageId, address, text, customer);
            var ack = await AckAsync(messageId);
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

    /// <summary>Sends one customer message to an existing conversation and waits for its ack.</summary>
    public async Task<Ack> SayAsync(string conversationId, string text)
    {
        var messageId = Addresses.Unique("m");
        await SendMessageAsync(messageId, Addresses.Conversation(conversationId), text);
        return await AckAsync(messageId);
    }

    /// <summary>The customer's adapter closes the conversation (unary CloseConversation).</summary>
    public async Task<ConversationView> CloseConversationAsync(string conversationId) =>
        (await _client.CloseConversationAsync(new CloseConversationRequest { Conversation = Addresses.Conversation(conversationId) })).Conversation;

    public IReadOnlyList<TimelineEntry> EntriesOf(string conversationId) =>
        _entries.TryGetValue(conversationId, out var queue) ? [.. queue] : [];

    public Task WaitForEntriesAsync(string conversationId, int count) => WaitUntilAsync(() => EntriesOf(conversationId).Count >= count);

    public Task WaitUntilAsync(Func<bool> condition)
    {
        lock (_lock)
        {
            if (condition())
            {
                return Task.CompletedTask;
            }

            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((condition, signal));
            return signal.Task.WaitAsync(SafetyTimeout);
        }
    }

    /// <summary>Half-closes and waits for the server to end the call; returns the call's status.</summary>
    public async Task<Status> CompleteAsync()
    {
        await _call.RequestStream.CompleteAsync();
        await _reader.WaitAsync(SafetyTimeout);
        return _call.GetStatus();
    }

    private async Task ReadAsync()
    {
        try
        {
            await foreach (var frame in _call.ResponseStream.ReadAllAsync())
            {
                Received.Enqueue(frame);
                if (frame.Ack is { } ack)
                {
                    if (ack.ConversationId.Length > 0)
                    {
                        _conversations.TryAdd(ack.ConversationId, true);
                    }

                    AckSource(ack.CorrelationId).TrySetResult(ack);
                }
                else
                {
                    _entries.GetOrAdd(frame.Entry.ConversationId, _ => new()).Enqueue(frame.Entry);
                }

                lock (_lock)
                {
                    _waiters.RemoveAll(w => w.Condition() && w.Signal.TrySetResult() is var _);
                }
            }
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled)
        {
            // Disposed by the test.
        }
    }

    private TaskCompletionSource<Ack> AckSource(string correlationId) =>
        _acks.GetOrAdd(correlationId, _ => new TaskCompletionSource<Ack>(TaskCreationOptions.RunContinuationsAsynchronously));

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

        _call.Dispose();
        try
        {
            await _reader;
        }
        catch (Exception ex) when (ex is RpcException or OperationCanceledException or ObjectDisposedException)
        {
            // Cancelled by disposal (or, if the reader was between two frames, found the call disposed).
        }
    }
}
