using ContactGrains.Silo.Security;
using Grpc.Core;

namespace ContactGrains.Silo.Channels;

/// <summary>Which channel is calling: the one its API key belongs to (<see cref="CallerAuthentication"/>), never a message body or a header.</summary>
internal static class ChannelIdentity
{
    public static string Require(ServerCallContext context) => CallerAuthentication.Channel(context);
}
