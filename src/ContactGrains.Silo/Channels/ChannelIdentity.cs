using System.Buffers;
using ContactGrains.Client;
using Grpc.Core;

namespace ContactGrains.Silo.Channels;

/// <summary>Reads which channel is calling from the connection, never from message bodies.</summary>
internal static class ChannelIdentity
{
    private const int MaxLength = 32;
    private static readonly SearchValues<char> Allowed = SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789-_");

    /// <summary>The caller's channel name, or an RpcException saying how to provide it.</summary>
    public static string Require(ServerCallContext context)
    {
        var channel = context.RequestHeaders.GetValue(ChannelClient.ChannelHeader);
        if (string.IsNullOrEmpty(channel))
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated,
                $"Missing '{ChannelClient.ChannelHeader}' header: every call must name the adapter's channel (e.g. 'webchat', 'sms', 'whatsapp')."));
        }

        if (channel.Length > MaxLength || channel.AsSpan().ContainsAnyExcept(Allowed))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument,
                $"Invalid '{ChannelClient.ChannelHeader}' header ({channel.Length} characters): use 1 to {MaxLength} characters from a-z, 0-9, '-' and '_'."));
        }

        return channel;
    }
}
