using System.Threading.Channels;
using ContactGrains.Contracts;
using ContactGrains.Grains.Delivery;
using ContactGrains.Silo.Hosting;
using ContactGrains.Silo.Wire;
using Grpc.Core;
using Proto = ContactGrains.Protos.V1;

namespace ContactGrains.Silo.Channels;

/// <summary>
/// One adapter's bidirectional stream. The read loop dispatches frames (in order per conversation,
/// concurrently across conversations); acks and timeline entries go through one bounded channel to
/// the single writer loop, because a gRPC stream allows only one pending write.
/// </summary>
internal sealed partial class AdapterSession(
    string channel,
    ConversationRouter router,
    IGrainFactory grains,
    TimeSpan frameTimeout,
    TimeSpan stalledStreamTimeout,
    ILogger logger)
{
    // Frames being processed at once; beyond this the read loop stops reading (backpressure).
    private const int MaxInFlight = 256;
    private const int OutboundCapacity = 1024;
    private static readonly WriteOptions BufferedWrite = new(WriteFlags.BufferHint);

    private readonly Channel<Proto.ChannelDownstream> _outbound = Channel.CreateBounded<Proto.ChannelDownstream>(
        new BoundedChannelOptions(OutboundCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly SemaphoreSlim _inFlight = new(MaxInFlight);
    private readonly KeyedSerialQueue _perConversation = new();

    public async Task RunAsync(
        IAsyncStreamReader<UpstreamFrame> requests,
        IServerStreamWriter<Proto.ChannelDownstream> responses,
        CancellationToken cancellationToken)
    {
        await using var feed = new ConversationFeed(
            grains,
            channel,
            (entry, ct) => _outbound.Writer.WriteAsync(new Proto.ChannelDownstream { Entry = ChannelMapping.ToProto(entry) }, ct),
            logger);

        // If delivery stops (the stream's writer failed, or the adapter stopped reading), end the call:
        // the adapter reconnects and resumes.
        using var watchdog = new StalledWriteWatchdog(stalledStreamTimeout);
        using var session = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, watchdog.Token);
        _ = feed.Completion.ContinueWith(_ => session.Cancel(), CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        var writer = WriteLoopAsync(responses, watchdog, session.Token);
        LogConnected(channel);
        try
        {
            await foreach (var (frame, refusal) in requests.ReadAllAsync(session.Token))
            {
                if (refusal is not null)
                {
                    // Bytes that did not decode: refused on their own, and the stream reads on.
                    LogFrameUndecodable(channel, refusal.Code, refusal.CorrelationId);
                    await _outbound.Writer.WriteAsync(new Proto.ChannelDownstream { Ack = refusal }, session.Token);
                    continue;
                }

                await _inFlight.WaitAsync(session.Token);
                _perConversation.Enqueue(OrderingKey(frame!), () => HandleAsync(frame!, feed, session.Token));
            }

            // The adapter half-closed: finish what it sent, deliver what is owed, then end the call.
            await _perConversation.WhenIdleAsync();
            await feed.DrainAsync();
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            if (watchdog.Stalled)
            {
                LogStalled(channel, watchdog.Timeout);
                throw new RpcException(new Status(StatusCode.Unavailable,
                    $"This stream was not read for {watchdog.Timeout.TotalSeconds:0} s and was closed; reconnect and resume each conversation from its last sequence."));
            }

            throw new RpcException(new Status(StatusCode.Unavailable,
                "Delivery to this stream failed; reconnect and resume each conversation from its last sequence."));
        }
        finally
        {
            _outbound.Writer.TryComplete();
            await writer;
            LogDisconnected(channel);
        }
    }

    private async Task WriteLoopAsync(IServerStreamWriter<Proto.ChannelDownstream> responses, StalledWriteWatchdog watchdog, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var item in _outbound.Reader.ReadAllAsync(cancellationToken))
            {
                // Frames already waiting behind this one: leave it in the response buffer, so the
                // last of them sends them all at once (one flush and socket write instead of one
                // per ack and entry). The last frame waiting is always flushed.
                responses.WriteOptions = _outbound.Reader.Count > 0 ? BufferedWrite : null;
                await watchdog.WriteAsync(responses, item, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The adapter went away.
        }
        catch (Exception ex)
        {
            // Stop producers: writes after a failed write would fail too.
            _outbound.Writer.TryComplete(ex);
            throw;
        }
    }

    private async Task HandleAsync(Proto.ChannelUpstream frame, ConversationFeed feed, CancellationToken cancellationToken)
    {
        // Each frame gets the time a unary call would: a dead silo or database is reported in
        // seconds, as a REJECTED ack the adapter retries, and the stream goes on.
        using var budget = CallBudget.Start(cancellationToken, frameTimeout);
        try
        {
            var ack = frame.FrameCase switch
            {
                Proto.ChannelUpstream.FrameOneofCase.Message => await ReceiveAsync(frame.Message, feed, budget.Token),
                Proto.ChannelUpstream.FrameOneofCase.Resume => await ResumeAsync(frame.Resume, feed, budget.Token),
                _ => ChannelMapping.Rejected("", StatusCode.InvalidArgument, "Empty frame: set either message or resume."),
            };
            await _outbound.Writer.WriteAsync(new Proto.ChannelDownstream { Ack = ack }, cancellationToken);
        }
        catch (Exception ex) when (cancellationToken.IsCancellationRequested || ex is ChannelClosedException)
        {
            // The stream is ending; the adapter will resend what was not acknowledged.
        }
        catch (Exception ex)
        {
            var failure = budget.Explain(ex);
            var status = ErrorMapping.ToStatus(failure);
            if (status.StatusCode == StatusCode.Internal)
            {
                LogFrameFailed(failure, channel);
            }
            else
            {
                LogFrameRefused(failure, channel, status.StatusCode);
            }

            var correlationId = frame.Message?.MessageId ?? frame.Resume?.RequestId ?? "";
            var ack = ChannelMapping.Rejected(correlationId, status.StatusCode, status.Detail);
            try
            {
                await _outbound.Writer.WriteAsync(new Proto.ChannelDownstream { Ack = ack }, cancellationToken);
            }
            catch (Exception) when (cancellationToken.IsCancellationRequested || _outbound.Reader.Completion.IsCompleted)
            {
                // The stream ended meanwhile.
            }
        }
        finally
        {
            _inFlight.Release();
        }
    }

    private async Task<Proto.Ack> ReceiveAsync(Proto.InboundMessage message, ConversationFeed feed, CancellationToken cancellationToken)
    {
        var result = await router.ReceiveAsync(channel, message, feed.Reference, cancellationToken);
        if (result.Outcome != InboundOutcome.Rejected)
        {
            // Accepted: deliver what the message produced. Duplicate: a new connection starts at the
            // original message and is owed everything since (the adapter probably missed the reply);
            // if that was the conversation's first message, the opening too (its first try may have
            // stored the message but run out of time before anything reached the adapter).
            var startAfter = (result.Entries.IsEmpty ? result.Sequence : result.Entries[0].Sequence) - 1;
            if (result.Outcome == InboundOutcome.Duplicate && result.Sequence == ConversationLimits.OpeningEntries + 1)
            {
                startAfter = 0;
            }
            feed.Post(result.ConversationId, startAfter, result.Entries, result.LastSequence);
        }

        return ChannelMapping.ToAck(message.MessageId, result);
    }

    private async Task<Proto.Ack> ResumeAsync(Proto.ResumeRequest resume, ConversationFeed feed, CancellationToken cancellationToken)
    {
        var (conversation, rejection) = await router.FindAsync(channel, resume.Conversation, cancellationToken);
        if (conversation is null)
        {
            return ChannelMapping.Rejected(resume.RequestId, ChannelMapping.ToStatusCode(rejection!.Code), rejection.Message);
        }

        var afterSequence = ChannelMapping.ToSequence(resume.AfterSequence);
        var page = await conversation.Resume(channel, afterSequence, feed.Reference, cancellationToken);
        if (page.Rejection is { } pageRejection)
        {
            return ChannelMapping.Rejected(resume.RequestId, ChannelMapping.ToStatusCode(pageRejection.Code), pageRejection.Message);
        }

        var conversationId = conversation.GetPrimaryKeyString();
        feed.Restart(conversationId, afterSequence, page.Entries, page.LastSequence);
        return new Proto.Ack
        {
            CorrelationId = resume.RequestId,
            Status = Proto.AckStatus.Accepted,
            ConversationId = conversationId,
            Sequence = (ulong)page.LastSequence,
        };
    }

    private static string OrderingKey(Proto.ChannelUpstream frame)
    {
        var address = frame.Message?.Conversation ?? frame.Resume?.Conversation;
        return address?.AddressCase switch
        {
            Proto.ConversationAddress.AddressOneofCase.ConversationId => "id:" + address.ConversationId,
            Proto.ConversationAddress.AddressOneofCase.ExternalThreadId => "thread:" + address.ExternalThreadId,
            _ => "",
        };
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Adapter connected on channel {Channel}")]
    private partial void LogConnected(string channel);

    [LoggerMessage(Level = LogLevel.Information, Message = "Adapter disconnected from channel {Channel}")]
    private partial void LogDisconnected(string channel);

    [LoggerMessage(Level = LogLevel.Error, Message = "Adapter stream on {Channel}: a frame failed unexpectedly")]
    private partial void LogFrameFailed(Exception exception, string channel);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Adapter stream on {Channel} was not read for {Timeout} and was closed")]
    private partial void LogStalled(string channel, TimeSpan timeout);

    [LoggerMessage(Level = LogLevel.Information, Message = "Adapter stream on {Channel}: an undecodable frame was refused with code {Code} (correlation id '{CorrelationId}')")]
    private partial void LogFrameUndecodable(string channel, int code, string correlationId);

    // Expected faults (a silo or the database gone) are counted as one incident, not logged one by one.
    [LoggerMessage(Level = LogLevel.Warning, Message = "Adapter stream on {Channel}: a frame was refused with {StatusCode}")]
    private partial void LogFrameRefused(Exception exception, string channel, StatusCode statusCode);
}
