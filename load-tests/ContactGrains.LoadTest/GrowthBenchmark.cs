using System.Diagnostics;
using System.Globalization;
using ContactGrains.Client;
using ContactGrains.Protos.V1;
using Grpc.Core;

namespace ContactGrains.LoadTest;

/// <summary>
/// One conversation grows message by message (unary SendMessage, one at a time): the time per
/// message, by position in the conversation, shows whether the cost of storing a message stays flat.
/// </summary>
internal static class GrowthBenchmark
{
    private const int Bucket = 100;

    public static async Task<int> RunAsync(LoadOptions options, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(options.MaxSeconds));
        using var grpc = ChannelClient.OpenChannel(options.Address);
        var client = ChannelClient.Create(grpc, "growth");
        var thread = $"growth-{Guid.NewGuid():N}";
        var messages = options.Iterations;
        Console.WriteLine($"growth: one conversation, {messages} messages one at a time, to {options.Address}");

        var bucket = new List<double>(Bucket);
        for (var i = 0; i < messages; i++)
        {
            var started = Stopwatch.GetTimestamp();
            SendMessageResponse response;
            try
            {
                response = await client.SendMessageAsync(
                    new SendMessageRequest
                    {
                        Message = new InboundMessage
                        {
                            MessageId = $"{thread}-{i}",
                            Conversation = new ConversationAddress { ExternalThreadId = thread },
                            Customer = new CustomerIdentity { ExternalCustomerId = thread },
                            Text = i % 2 == 0 ? "Where is my refund?" : "How do I reset my password?",
                        },
                    },
                    cancellationToken: deadline.Token);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled && deadline.IsCancellationRequested)
            {
                Console.WriteLine($"stopped at the time limit ({options.MaxSeconds} s) after {i} of {messages} messages");
                return 1;
            }

            bucket.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            if (response.Ack.Status != AckStatus.Accepted)
            {
                Console.WriteLine($"message {i}: {response.Ack.Status} {response.Ack.Detail}");
                return 1;
            }

            if (bucket.Count == Bucket)
            {
                bucket.Sort();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"messages {i + 2 - Bucket,5}-{i + 1,5}: mean {bucket.Average():F2} ms, p50 {bucket[Bucket / 2]:F2} ms, p95 {bucket[(Bucket * 95 / 100) - 1]:F2} ms"));
                bucket.Clear();
            }
        }

        return 0;
    }
}
