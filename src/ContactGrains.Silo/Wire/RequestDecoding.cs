using System.Buffers;
using System.Text;
using System.Text.Unicode;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;

namespace ContactGrains.Silo.Wire;

/// <summary>
/// Decodes request messages so that a bad one is refused with a status that names the problem,
/// never UNKNOWN or INTERNAL. Protobuf's own parser throws on a string field that is not UTF-8
/// (a lone UTF-16 surrogate from a JavaScript adapter) or on truncated bytes, and grpc-dotnet turns
/// an exception from a deserializer into UNKNOWN "Exception was thrown by handler".
/// </summary>
internal static class RequestDecoding
{
    /// <summary>
    /// The largest request the API needs: a message's text is at most 4,096 UTF-16 characters (at most
    /// 12 KiB of UTF-8) with ids and a customer of a few hundred bytes each. Larger requests are
    /// refused with RESOURCE_EXHAUSTED before they are parsed.
    /// </summary>
    public const int MaxRequestBytes = 32 * 1024;

    /// <summary>
    /// What Kestrel reads off the wire at most. Between <see cref="MaxRequestBytes"/> and this, a frame
    /// of an adapter stream gets its own refusal and the stream goes on; past this, gRPC itself ends
    /// the call with RESOURCE_EXHAUSTED.
    /// </summary>
    public const int MaxTransportBytes = 1024 * 1024;

    /// <summary>Why a request could not be decoded: the status it gets and a sentence a person can act on.</summary>
    public sealed record Problem(StatusCode Code, string Detail);

    /// <summary>A marshaller whose deserializer throws <see cref="RpcException"/> with the precise status.</summary>
    public static Marshaller<T> Strict<T>() where T : class, IMessage<T>, new()
    {
        var parser = new MessageParser<T>(() => new T());
        var descriptor = new T().Descriptor;
        return new Marshaller<T>(Serialize, context =>
        {
            var (message, problem) = TryDecode(parser, descriptor, context.PayloadAsReadOnlySequence());
            return message ?? throw new RpcException(new Status(problem!.Code, problem.Detail));
        });
    }

    /// <summary>
    /// A marshaller that never throws: a frame that cannot be decoded becomes whatever
    /// <paramref name="onProblem"/> makes of its raw bytes and the problem (a refusal the stream can send).
    /// </summary>
    public static Marshaller<TFrame> Tolerant<T, TFrame>(Func<T, TFrame> onMessage, Func<ReadOnlySequence<byte>, Problem, TFrame> onProblem)
        where T : class, IMessage<T>, new()
        where TFrame : class
    {
        var parser = new MessageParser<T>(() => new T());
        var descriptor = new T().Descriptor;
        return new Marshaller<TFrame>(
            (_, _) => throw new NotSupportedException("Upstream frames are only ever read by the server."),
            context =>
            {
                var payload = context.PayloadAsReadOnlySequence();
                var (message, problem) = TryDecode(parser, descriptor, payload);
                return message is not null ? onMessage(message) : onProblem(payload, problem!);
            });
    }

    /// <summary>The response side: protobuf's own serialization, written straight into gRPC's buffer.</summary>
    public static Marshaller<T> Response<T>() where T : class, IMessage<T>, new() =>
        new(Serialize, _ => throw new NotSupportedException("Responses are only ever written by the server."));

    internal static (T? Message, Problem? Problem) TryDecode<T>(MessageParser<T> parser, MessageDescriptor descriptor, ReadOnlySequence<byte> payload)
        where T : IMessage<T>
    {
        if (payload.Length > MaxRequestBytes)
        {
            return (default, new Problem(StatusCode.ResourceExhausted,
                $"The {descriptor.Name} is {payload.Length:N0} bytes; the limit is {MaxRequestBytes:N0} (a message's text is at most 4,096 characters)."));
        }

        try
        {
            return (parser.ParseFrom(payload), null);
        }
        catch (Exception ex) when (ex is InvalidProtocolBufferException or DecoderFallbackException)
        {
            return (default, new Problem(StatusCode.InvalidArgument, Explain(descriptor, payload)));
        }
    }

    /// <summary>
    /// Names the first string field that is not UTF-8 (with the byte offset inside it), or says the
    /// bytes are not a well-formed message of that type. Never echoes the field's content.
    /// </summary>
    internal static string Explain(MessageDescriptor descriptor, ReadOnlySequence<byte> payload)
    {
        var bytes = payload.ToArray();
        try
        {
            if (FindInvalidUtf8(descriptor, bytes, prefix: "") is { } bad)
            {
                return $"Field '{bad.Path}' is not valid UTF-8 (bad byte at offset {bad.Offset}): protobuf strings must be UTF-8; a lone UTF-16 surrogate (half an emoji) cannot be encoded. Replace it, e.g. with U+FFFD.";
            }
        }
        catch (InvalidProtocolBufferException)
        {
            // Malformed beyond its strings: described below.
        }

        return $"The request is not a well-formed {descriptor.FullName} message (undecodable protobuf bytes).";
    }

    private static (string Path, int Offset)? FindInvalidUtf8(MessageDescriptor descriptor, byte[] bytes, string prefix)
    {
        var input = new CodedInputStream(bytes);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            var field = descriptor.FindFieldByNumber(WireFormat.GetTagFieldNumber(tag));
            if (field is null || WireFormat.GetTagWireType(tag) != WireFormat.WireType.LengthDelimited)
            {
                input.SkipLastField();
                continue;
            }

            var path = prefix + field.Name;
            switch (field.FieldType)
            {
                case FieldType.String:
                {
                    var value = input.ReadBytes().Span;
                    if (Utf8.IsValid(value))
                    {
                        break;
                    }

                    // The offset of the first byte that does not decode, for the adapter's developer.
                    var status = Utf8.ToUtf16(value, new char[value.Length], out var read, out _, replaceInvalidSequences: false);
                    return (path, status == OperationStatus.Done ? 0 : read);
                }

                case FieldType.Message:
                {
                    var nested = input.ReadBytes().ToByteArray();
                    if (FindInvalidUtf8(field.MessageType, nested, path + ".") is { } bad)
                    {
                        return bad;
                    }

                    break;
                }

                default:
                    input.SkipLastField();
                    break;
            }
        }

        return null;
    }

    private static void Serialize<T>(T message, SerializationContext context) where T : IMessage<T>
    {
        context.SetPayloadLength(message.CalculateSize());
        message.WriteTo(context.GetBufferWriter());
        context.Complete();
    }
}
