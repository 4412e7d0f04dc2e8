using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using ContactGrains.Protos.V1;

namespace ContactGrains.Client;

/// <summary>Helpers for callers of the channel API.</summary>
public static class ChannelClient
{
    /// <summary>The request header that names the calling adapter's channel.</summary>
    public const string ChannelHeader = "contactgrains-channel";

    /// <summary>
    /// Creates a channel API client over <paramref name="grpcChannel"/> that
    /// identifies itself as <paramref name="channelName"/> on every call.
    /// </summary>
    public static ChannelService.ChannelServiceClient Create(GrpcChannel grpcChannel, string channelName)
    {
        ArgumentNullException.ThrowIfNull(grpcChannel);
        ArgumentException.ThrowIfNullOrWhiteSpace(channelName);
        var invoker = grpcChannel.Intercept(metadata =>
        {
            metadata.Add(ChannelHeader, channelName);
            return metadata;
        });
        return new ChannelService.ChannelServiceClient(invoker);
    }

    /// <summary>Opens a gRPC channel to a ContactGrains silo over HTTP/2 (cleartext for http:// addresses).</summary>
    public static GrpcChannel OpenChannel(string address) =>
        GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = true,
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                KeepAlivePingDelay = TimeSpan.FromSeconds(30),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
            },
        });
}
