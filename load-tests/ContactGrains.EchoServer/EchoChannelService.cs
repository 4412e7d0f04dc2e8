using System.Threading.Channels;
using ContactGrains.Client;
using ContactGrains.Protos.V1;
using Grpc.Core;

namespace ContactGrains.EchoServer;

/// <summary>
/// The channel API answered by <see cref="EchoTimeline"/>: the Connect stream, and the unary calls a
/// load run may use (start, send, transcript, view). CloseConversation is not implemented.
/// </summary>
internal sealed class EchoChannelService(EchoTimeline timeline) : ChannelService.ChannelServiceBase
{
    private const int OutboundCapacity = 1024;

    public override async Task Connect(IAsyncStreamReader<ChannelUpstream> requestStream, IServerStreamWriter<ChannelDownstream> responseStream, ServerCallContext context)
    {
        var channel = RequireChannel(context);

        // As the silo: headers at once tell the adapter its stream was accepted.
        await context.WriteResponseHeadersAsync([]);

        // One writer (a gRPC stream allows one pending write); the reader answers frames in order.
        var outbound = Channel.CreateBounded<ChannelDownstream>(new BoundedChannelOptions(OutboundCapacity) { SingleReader = true, SingleWriter = true });
        var writing = WriteLoopAsync(outbound, responseStream, context.CancellationToken);
        try
        {
            await foreach (var frame in requestStream.ReadAllAsync(context.CancellationToken))
            {
                var result = frame.FrameCase switch
                {
                    ChannelUpstream.FrameOneofCase.Message => timeline.Receive(channel, frame.Message),
                    ChannelUpstream.FrameOneofCase.Resume => timeline.Resume(channel, frame.Resume),
                    _ => new EchoResult(new Ack { Status = AckStatus.Rejected, Code = (int)StatusCode.InvalidArgument, Detail = "Empty frame: set either message or resume." }, []),
                };
                foreach (var entry in result.Entries)
                {
                    await outbound.Writer.WriteAsync(new ChannelDownstream { Entry = entry }, context.CancellationToken);
                }

                await outbound.Writer.WriteAsync(new ChannelDownstream { Ack = result.Ack }, context.CancellationToken);
            }
        }
        catch (ChannelClosedException)
        {
            // The writer failed: the adapter is gone.
        }
        finally
        {
            outbound.Writer.TryComplete();
            await writing;
        }
    }

    public override Task<StartConversationResponse> StartConversation(StartConversationRequest request, ServerCallContext context)
    {
        var channel = RequireChannel(context);
        if (string.IsNullOrEmpty(request.ExternalThreadId) || string.IsNullOrEmpty(request.Customer?.ExternalCustomerId))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "external_thread_id and customer.external_customer_id are required."));
        }

        var (view, created) = timeline.Start(channel, request.ExternalThreadId, request.Customer);
        return Task.FromResult(new StartConversationResponse { ConversationId = view.ConversationId, Created = created, Conversation = view });
    }

    public override Task<SendMessageResponse> SendMessage(SendMessageRequest request, ServerCallContext context)
    {
        var result = timeline.Receive(RequireChannel(context), request.Message ?? new InboundMessage());
        if (result.Ack.Status == AckStatus.Rejected)
        {
            throw new RpcException(new Status((StatusCode)result.Ack.Code, result.Ack.Detail));
        }

        var response = new SendMessageResponse { Ack = result.Ack };
        response.Entries.Add(result.Entries);
        return Task.FromResult(response);
    }

    public override Task<GetTranscriptResponse> GetTranscript(GetTranscriptRequest request, ServerCallContext context)
    {
        var max = request.MaxEntries is 0 or > 500 ? 500 : (int)request.MaxEntries;
        var (conversationId, entries, last) = timeline.Transcript(RequireChannel(context), request.Conversation, request.AfterSequence, max)
            ?? throw NotFound();
        var response = new GetTranscriptResponse { ConversationId = conversationId, LastSequence = last };
        response.Entries.Add(entries);
        return Task.FromResult(response);
    }

    public override Task<ConversationView> GetConversation(GetConversationRequest request, ServerCallContext context) =>
        Task.FromResult(timeline.Get(RequireChannel(context), request.Conversation) ?? throw NotFound());

    private static async Task WriteLoopAsync(Channel<ChannelDownstream> outbound, IServerStreamWriter<ChannelDownstream> responses, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var item in outbound.Reader.ReadAllAsync(cancellationToken))
            {
                await responses.WriteAsync(item, cancellationToken);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or InvalidOperationException or IOException)
        {
            // The adapter went away; the reader stops at its next write.
            outbound.Writer.TryComplete(ex);
        }
    }

    private static string RequireChannel(ServerCallContext context) =>
        context.RequestHeaders.GetValue(ChannelClient.ChannelHeader) is { Length: > 0 } channel
            ? channel
            : throw new RpcException(new Status(StatusCode.Unauthenticated, $"Missing '{ChannelClient.ChannelHeader}' header: every call names the adapter's channel."));

    private static RpcException NotFound() => new(new Status(StatusCode.NotFound, "No such conversation on this channel."));
}
