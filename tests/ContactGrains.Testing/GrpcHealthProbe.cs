using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;

namespace ContactGrains.Testing;

/// <summary>Waits for a server process to answer the standard gRPC health service (grpc.health.v1) with SERVING.</summary>
public static class GrpcHealthProbe
{
    private static readonly Method<byte[], byte[]> HealthCheck = new(
        MethodType.Unary, "grpc.health.v1.Health", "Check",
        Marshallers.Create(bytes => bytes, bytes => bytes),
        Marshallers.Create(bytes => bytes, bytes => bytes));

    /// <summary>
    /// Polls until the server as a whole is SERVING. Throws, with <paramref name="logTail"/>'s text,
    /// if <paramref name="process"/> exits first or <paramref name="timeout"/> passes.
    /// </summary>
    public static async Task WaitServingAsync(CallInvoker invoker, Process process, string name, TimeSpan timeout, Func<string> logTail)
    {
        var deadline = Stopwatch.StartNew();
        var last = "no answer yet";
        while (deadline.Elapsed < timeout)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{name} exited with code {process.ExitCode} before it was ready.\n{logTail()}");
            }

            try
            {
                // HealthCheckRequest with an empty service name: the server as a whole.
                var response = await invoker.AsyncUnaryCall(HealthCheck, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(2)), []);
                var status = ReadServingStatus(response);
                if (status == 1)
                {
                    return;
                }

                last = $"health status {status}";
            }
            catch (RpcException ex)
            {
                last = $"{ex.StatusCode}: {ex.Status.Detail}";
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"{name} was not ready within {timeout.TotalSeconds:0} s ({last}).\n{logTail()}");
    }

    // HealthCheckResponse { ServingStatus status = 1; } read by hand: no generated types needed.
    private static int ReadServingStatus(byte[] response)
    {
        var input = new CodedInputStream(response);
        var status = 0;
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == 1 && WireFormat.GetTagWireType(tag) == WireFormat.WireType.Varint)
            {
                status = input.ReadEnum();
            }
            else
            {
                input.SkipLastField();
            }
        }

        return status;
    }
}
