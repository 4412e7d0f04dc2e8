using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using ContactGrains.Client;
using ContactGrains.Protos.V1;
using Grpc.Core;

namespace ContactGrains.LoadTest;

/// <summary>Adapters under load: several Connect streams, each carrying its share of the conversations, all in flight at once.</summary>
internal static class ChannelLoad
{
    private static readonly string[] Questions =
    [
        "Where is my refund?", "How do I reset my password?", "I want to cancel my order",
        "Can I get a copy of my invoice?", "Je voudrais changer mon adresse de livraison",
        "When is my payment due?", "My card was charged twice", "Quels sont vos horaires d'ouverture ?",
    ];

    public static async Task<int> RunAsync(LoadOptions options)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(options.MaxSeconds));
        using var grpc = ChannelClient.OpenChannel(options.Address);
        var client = ChannelClient.Create(grpc, "loadtest");
        var run = Guid.NewGuid().ToString("N")[..8];
        var rssBefore = options.SiloPid is { } pid ? Stats.ResidentMiB(pid) : null;

        Console.WriteLine($"channel load: {options.Conversations} conversations × {options.Turns} turns over {options.Streams} streams to {options.Address} (stops after {options.MaxSeconds} s)");
        var total = Stopwatch.StartNew();
        var results = await Task.WhenAll(Enumerable.Range(0, options.Streams).Select(s =>
            RunStreamAsync(client, options, run, s, deadline.Token)));
        total.Stop();

        var messages = results.Sum(r => r.Acked);
        var latencies = results.SelectMany(r => r.AckLatenciesMs).ToList();
        var problems = results.SelectMany(r => r.Problems).ToList();
        var expected = options.Conversations * options.Turns;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"acked {messages}/{expected} messages in {total.Elapsed.TotalSeconds:F2} s: {messages / total.Elapsed.TotalSeconds:F0} messages/s ({messages * 2 / total.Elapsed.TotalSeconds:F0} timeline entries/s out)"));
        Console.WriteLine($"ack latency: {Stats.Percentiles(latencies)}");
        if (options.SiloPid is { } siloPid && Stats.ResidentMiB(siloPid) is { } rssAfter)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"silo resident memory: {rssBefore:F0} MiB before, {rssAfter:F0} MiB after ({(rssAfter - (rssBefore ?? 0)) * 1024 / options.Conversations:F1} KiB per conversation)"));
        }

        foreach (var problem in problems.Take(10))
        {
            Console.WriteLine($"problem: {problem}");
        }

        var ok = problems.Count == 0 && messages == expected;
        Console.WriteLine(ok ? "result: every message acknowledged, every conversation complete, in order, gap-free" : $"result: FAILED ({problems.Count} problems)");
        return ok ? 0 : 1;
    }

    private sealed record StreamResult(int Acked, List<double> AckLatenciesMs, List<string> Problems);

    private static async Task<StreamResult> RunStreamAsync(ChannelService.ChannelServiceClient client, LoadOptions options, string run, int stream, CancellationToken cancellationToken)
    {
        var threads = Enumerable.Range(0, options.Conversations).Where(i => i % options.Streams == stream).Select(i => $"{run}-{i}").ToArray();
        var sentAt = new ConcurrentDictionary<string, long>();
        var latencies = new List<double>(threads.Length * options.Turns);
        var problems = new ConcurrentQueue<string>();
        var entries = new Dictionary<string, List<ulong>>();
        var expectedAcks = threads.Length * options.Turns;
        var expectedEntries = threads.Length * (1 + (2 * options.Turns));
        var acked = 0;
        var receivedEntries = 0;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // Closed loop, like customers: each conversation asks its next question once the previous
        // one is acknowledged. Every conversation is in flight at once; one writer owns the stream.
        var toSend = Channel.CreateUnbounded<(int Thread, int Turn)>(new UnboundedChannelOptions { SingleReader = true });
        for (var i = 0; i < threads.Length; i++)
        {
            toSend.Writer.TryWrite((i, 0));
        }

        using var call = client.Connect(cancellationToken: cancellationToken);
        var reader = Task.Run(async () =>
        {
            await foreach (var frame in call.ResponseStream.ReadAllAsync(cancellationToken))
            {
                if (frame.Ack is { } ack)
                {
                    if (sentAt.TryRemove(ack.CorrelationId, out var started))
                    {
                        latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    }

                    if (ack.Status != AckStatus.Accepted)
                    {
                        problems.Enqueue($"{ack.CorrelationId}: {ack.Status} {ack.Code} {ack.Detail}");
                    }

                    acked++;
                    var (thread, turn) = ParseMessageId(ack.CorrelationId);
                    if (turn + 1 < options.Turns)
                    {
                        toSend.Writer.TryWrite((thread, turn + 1));
                    }
                }
                else
                {
                    if (!entries.TryGetValue(frame.Entry.ConversationId, out var sequences))
                    {
                        entries[frame.Entry.ConversationId] = sequences = [];
                    }

                    sequences.Add(frame.Entry.Sequence);
                    receivedEntries++;
                }

                if (acked == expectedAcks && receivedEntries >= expectedEntries)
                {
                    done.TrySetResult();
                }
            }
        }, cancellationToken);

        var writer = Task.Run(async () =>
        {
            await foreach (var (thread, turn) in toSend.Reader.ReadAllAsync(cancellationToken))
            {
                // Unique across streams and runs, as adapters' message ids are.
                var id = $"{threads[thread]}/{thread}/{turn}";
                sentAt[id] = Stopwatch.GetTimestamp();
                await call.RequestStream.WriteAsync(new ChannelUpstream
                {
                    Message = new InboundMessage
                    {
                        MessageId = id,
                        Conversation = new ConversationAddress { ExternalThreadId = threads[thread] },
                        Customer = new CustomerIdentity { ExternalCustomerId = threads[thread] },
                        Text = Questions[(thread + turn) % Questions.Length],
                    },
                }, cancellationToken);
            }
        }, cancellationToken);

        try
        {
            await done.Task.WaitAsync(cancellationToken);
            toSend.Writer.TryComplete();
            await writer;
            await call.RequestStream.CompleteAsync();
            await reader;
        }
        catch (OperationCanceledException)
        {
            problems.Enqueue($"stream {stream}: stopped at the time limit with {acked}/{expectedAcks} acks and {receivedEntries}/{expectedEntries} entries");
        }

        foreach (var (conversation, sequences) in entries)
        {
            if (sequences.Count != 1 + (2 * options.Turns) || !sequences.SequenceEqual(Enumerable.Range(1, sequences.Count).Select(s => (ulong)s)))
            {
                problems.Enqueue($"conversation {conversation}: sequences {string.Join(',', sequences)}");
            }
        }

        return new StreamResult(acked, latencies, [.. problems]);
    }

    private static (int Thread, int Turn) ParseMessageId(string id)
    {
        var parts = id.Split('/');
        return (int.Parse(parts[1], CultureInfo.InvariantCulture), int.Parse(parts[2], CultureInfo.InvariantCulture));
    }
}
