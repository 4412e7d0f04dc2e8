using ContactGrains.Protos.V1;
using Grpc.Core;

namespace ContactGrains.Client;

/// <summary>What became of one message sent with <see cref="ChannelConnection.SendAsync(InboundMessage, CancellationToken)"/>.</summary>
/// <param name="MessageId">The message's adapter id.</param>
/// <param name="Status">Accepted, duplicate (stored before: maybe by this connection's own resend after a reconnect), or rejected.</param>
/// <param name="ConversationId">The conversation that holds it (empty when rejected before one was found).</param>
/// <param name="Sequence">The message's place in the conversation's timeline (0 when rejected).</param>
/// <param name="Code">For a rejection: the gRPC status code saying why.</param>
/// <param name="Detail">For a rejection: a sentence a person can act on.</param>
/// <param name="Attempts">Frames sent for it: more than 1 after a reconnect or a retryable refusal.</param>
/// <param name="RetryAfter">For a rejection over a rate limit (RESOURCE_EXHAUSTED): when the same message would be taken.</param>
public sealed record MessageAck(
    string MessageId,
    AckStatus Status,
    string ConversationId,
    ulong Sequence,
    StatusCode Code,
    string Detail,
    int Attempts,
    TimeSpan? RetryAfter = null)
{
    /// <summary>The message is stored, exactly once (accepted now or before).</summary>
    public bool IsStored => Status is AckStatus.Accepted or AckStatus.Duplicate;

    /// <summary>Throws an <see cref="RpcException"/> with the rejection's code and detail unless the message is stored.</summary>
    public MessageAck EnsureStored() =>
        IsStored ? this : throw new RpcException(new Grpc.Core.Status(Code, Detail));

    internal static MessageAck From(Ack ack, int attempts) => new(
        ack.CorrelationId,
        ack.Status,
        ack.ConversationId,
        ack.Sequence,
        ack.Status == AckStatus.Rejected ? (StatusCode)ack.Code : StatusCode.OK,
        ack.Detail,
        attempts,
        ack.RetryAfterMs > 0 ? TimeSpan.FromMilliseconds(ack.RetryAfterMs) : null);
}
