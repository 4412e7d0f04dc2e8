using ContactGrains.Protos.V1;
using Grpc.Core;

namespace ContactGrains.EndToEnd.Tests;

/// <summary>
/// Raw on purpose: sends frames the library would never send (no message id, no address, resumes
/// and resends written by hand on a fresh stream) and keeps every frame the server sends back as it
/// came, in arrival order, duplicates and gaps included, so that a test sees what the SERVER does
/// where the library would smooth it over. It does no ack correlation (only a search of what
/// arrived), no sequencing, no resume and no reconnection: every other test adapter is an
/// <see cref="AdapterStream"/>, on the client library.
/// </summary>
internal sealed class RawChannelStream : IAsyncDisposable
{
    private static readonly TimeSpan SafetyTimeout = TimeSpan.FromSeconds(60);
    private readonly AsyncDuplexStreamingCall<ChannelUpstream, ChannelDownstream> _call;
    private readonly Lock _lock = new();
    private readonly List<ChannelDownstream> _received = [];
    private readonly StateChanges _changes = new();
    private readonly Task _reader;

    public RawChannelStream(ChannelService.ChannelServiceClient client)
    {
        _call = client.Connect();
        _reader = Task.Run(ReadAsync);
    }

    /// <summary>Every frame received so far, in arrival order.</summary>
    public IReadOnlyList<ChannelDownstream> Received
    {
        get
        {
            lock (_lock)
            {
                return [.. _received];
            }
        }
    }

    /// <summary>Writes one frame as it is. One write at a time: await each before the next.</summary>
    public Task SendAsync(ChannelUpstream frame) => _call.RequestStream.WriteAsync(frame);

    public Task SendMessageAsync(string messageId, ConversationAddress address, string text, CustomerIdentity? customer = null) =>
        SendAsync(new ChannelUpstream { Message = new InboundMessage { MessageId = messageId, Conversation = address, Text = text, Customer = customer } });

    /// <summary>Waits for the first ack received with this correlation id.</summary>
    public async Task<Ack> FirstAckAsync(string correlationId)
    {
        Ack? ack = null;
        await WaitUntilAsync(() => (ack = Received.FirstOrDefault(f => f.Ack?.CorrelationId == correlationId)?.Ack) is not null);
        return ack!;
    }

    /// <summary>The entries of one conversation exactly as they arrived: not sorted, not de-duplicated.</summary>
    public IReadOnlyList<TimelineEntry> EntriesOf(string conversationId) =>
        [.. Received.Where(f => f.Entry?.ConversationId == conversationId).Select(f => f.Entry)];

    public Task WaitForEntriesAsync(string conversationId, int count) => WaitUntilAsync(() => EntriesOf(conversationId).Count >= count);

    public Task WaitUntilAsync(Func<bool> condition) => _changes.WaitUntilAsync(condition, SafetyTimeout);

    /// <summary>Half-closes the stream, waits for the server to end the call and returns the call's status.</summary>
    public async Task<Status> CompleteAsync()
    {
        await _call.RequestStream.CompleteAsync();
        await _reader.WaitAsync(SafetyTimeout);
        return _call.GetStatus();
    }

    public async ValueTask DisposeAsync()
    {
        _call.Dispose();
        await _reader;
    }

    private async Task ReadAsync()
    {
        try
        {
            await foreach (var frame in _call.ResponseStream.ReadAllAsync())
            {
                lock (_lock)
                {
                    _received.Add(frame);
                }

                _changes.Changed();
            }
        }
        catch (Exception ex) when (ex is RpcException or OperationCanceledException or ObjectDisposedException)
        {
            // The call ended with an error status (see CompleteAsync) or was disposed by the test.
        }
        finally
        {
            _changes.Changed();
        }
    }
}
