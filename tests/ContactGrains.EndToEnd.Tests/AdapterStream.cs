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

    public AdapterStream(ChannelService.ChannelServiceClient client)
    {
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
        _call.Dispose();
        try
        {
            await _reader;
        }
        catch (Exception ex) when (ex is RpcException or OperationCanceledException)
        {
            // Cancelled by disposal.
        }
    }
}
