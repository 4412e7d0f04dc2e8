using System.Buffers;
using System.Text.Unicode;
using ContactGrains.Contracts;
using ContactGrains.Silo.Channels;
using Google.Protobuf;
using Proto = ContactGrains.Protos.V1;

namespace ContactGrains.Silo.Wire;

/// <summary>
/// One frame read from an adapter stream: the decoded frame, or, for bytes that did not decode (bad
/// UTF-8, truncated, too large), the refusal the stream sends back for it before reading on. One bad
/// frame costs one REJECTED ack, never the stream and its other conversations.
/// </summary>
internal sealed record UpstreamFrame(Proto.ChannelUpstream? Frame, Proto.Ack? Refusal)
{
    public static readonly Grpc.Core.Marshaller<UpstreamFrame> Marshaller = RequestDecoding.Tolerant<Proto.ChannelUpstream, UpstreamFrame>(
        frame => new UpstreamFrame(frame, null),
        (payload, problem) => new UpstreamFrame(null, ChannelMapping.Rejected(RecoverCorrelationId(payload), problem.Code, problem.Detail)));

    /// <summary>
    /// The frame's message_id or request_id when that much of it is readable, so the refusal can be
    /// matched to what the adapter sent; empty otherwise.
    /// </summary>
    internal static string RecoverCorrelationId(ReadOnlySequence<byte> payload)
    {
        if (payload.Length > RequestDecoding.MaxTransportBytes)
        {
            return "";
        }

        try
        {
            var frame = new CodedInputStream(payload.ToArray());
            uint tag;
            while ((tag = frame.ReadTag()) != 0)
            {
                // message = 1 (its message_id = 1); resume = 2 (its request_id = 3).
                var idField = WireFormat.GetTagFieldNumber(tag) switch
                {
                    Proto.ChannelUpstream.MessageFieldNumber => Proto.InboundMessage.MessageIdFieldNumber,
                    Proto.ChannelUpstream.ResumeFieldNumber => Proto.ResumeRequest.RequestIdFieldNumber,
                    _ => 0,
                };
                if (idField == 0 || WireFormat.GetTagWireType(tag) != WireFormat.WireType.LengthDelimited)
                {
                    frame.SkipLastField();
                    continue;
                }

                return ReadStringField(frame.ReadBytes().ToByteArray(), idField);
            }
        }
        catch (InvalidProtocolBufferException)
        {
            // Not even the envelope decodes: nothing to correlate with.
        }

        return "";
    }

    private static string ReadStringField(byte[] message, int fieldNumber)
    {
        var input = new CodedInputStream(message);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) != fieldNumber || WireFormat.GetTagWireType(tag) != WireFormat.WireType.LengthDelimited)
            {
                input.SkipLastField();
                continue;
            }

            var bytes = input.ReadBytes();
            // An id that is itself bad, or longer than any valid id, is not echoed back.
            return bytes.Length <= ConversationLimits.MaxIdLength * 4 && Utf8.IsValid(bytes.Span) && bytes.ToStringUtf8() is { Length: <= ConversationLimits.MaxIdLength } id
                ? id
                : "";
        }

        return "";
    }
}
