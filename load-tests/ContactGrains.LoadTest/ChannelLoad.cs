using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using ContactGrains.Client;
using ContactGrains.Protos.V1;
using Grpc.Net.Client;

namespace ContactGrains.LoadTest;

/// <summary>
/// Adapters under load: several <see cref="ChannelConnection"/>s (one Connect stream each), each
/// carrying its share of the conversations, all in flight at once.
/// </summary>
internal static class ChannelLoad
{
    private static readonly string[] Questions =
    [
        "Where is my refund?", "How do I reset my password?", "I want to cancel my order",
        "Can I get a copy of my invoice?", "Je voudrais changer mon adresse de livraison",
        "When is my payment due?", "My card was charged twice", "Quels sont vos horaires d'ouverture ?",
    ];

    public static async Task<int> RunAsync(LoadOptions options, CancellationToken cancellationToken = default)
    {
        var rssBefore = options.SiloPid is { } pid ? Stats.ResidentMiB(pid) : null;
        var siloCpuBefore = options.SiloPid is { } pid2 ? Stats.CpuSeconds(pid2) : null;

        Console.WriteLine($"channel load: {options.Conversations} conversations × {options.Turns} turns over {options.Streams} streams to {options.Address} (stops after {options.MaxSeconds} s)");
        var result = await MeasureAsync(options, cancellationToken);
        var messages = result.Messages;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"acked {messages}/{result.Expected} messages in {result.Elapsed.TotalSeconds:F2} s: {result.MessagesPerSecond:F0} messages/s ({messages * 2 / result.Elapsed.TotalSeconds:F0} timeline entries/s out)"));
        Console.WriteLine($"ack latency: {result.AckLatency}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Stats.CpuLine("load generator CPU", result.GeneratorCpuSeconds, messages)}, {(messages > 0 ? result.AllocatedBytes / 1024.0 / messages : 0):F1} KiB allocated per message"));
        if (result.Resent > 0)
        {
            // The library retries what the cluster refused as retryable (UNAVAILABLE: overloaded) and resends after a broken stream.
            Console.WriteLine($"messages sent more than once: {result.Resent} (stream reconnections: {result.Reconnections}; acknowledged as duplicates: {result.Duplicates})");
        }

        if (options.SiloPid is { } siloPid)
        {
            if (Stats.CpuSeconds(siloPid) is { } siloCpuAfter && siloCpuBefore is { } before)
            {
                Console.WriteLine(Stats.CpuLine("silo CPU", siloCpuAfter - before, messages));
            }

            if (Stats.ResidentMiB(siloPid) is { } rssAfter)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"silo resident memory: {rssBefore:F0} MiB before, {rssAfter:F0} MiB after ({(rssAfter - (rssBefore ?? 0)) * 1024 / options.Conversations:F1} KiB per conversation)"));
            }
        }

        foreach (var problem in result.Problems.Take(10))
        {
            Console.WriteLine($"problem: {problem}");
        }

        Console.WriteLine(result.Passed ? "result: every message acknowledged, every conversation complete, in order, gap-free" : $"result: FAILED ({result.Problems.Count} problems)");
        return result.Passed ? 0 : 1;
    }

    /// <summary>
    /// One closed-loop run (see <see cref="RunStreamAsync"/>), silent: what it measured, for
    /// <see cref="RunAsync"/> to print and for other commands (ceiling) to compare.
    /// </summary>
    internal static async Task<ChannelRunResult> MeasureAsync(LoadOptions options, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(options.MaxSeconds));
        using var grpc = ChannelClient.OpenChannel(options.Address);
        var run = Guid.NewGuid().ToString("N")[..8];
        var cpuBefore = Stats.OwnCpuSeconds();
        var allocatedBefore = GC.GetTotalAllocatedBytes();
        var total = Stopwatch.StartNew();
        var results = await Task.WhenAll(Enumerable.Range(0, options.Streams).Select(s =>
            RunStreamAsync(grpc, options, run, s, deadline.Token)));
        total.Stop();
        var latency = new LatencyHistogram();
        foreach (var sample in results.SelectMany(r => r.AckLatenciesMs))
        {
            latency.Record(TimeSpan.FromMilliseconds(sample));
        }

        return new ChannelRunResult(
            results.Sum(r => r.Acked),
            options.Conversations * options.Turns,
            total.Elapsed,
            latency.Summarize(),
            Stats.OwnCpuSeconds() - cpuBefore,
            GC.GetTotalAllocatedBytes() - allocatedBefore,
            results.Sum(r => r.Resent),
            results.Sum(r => r.Reconnections),
            results.Sum(r => r.Duplicates),
            [.. results.SelectMany(r => r.Problems)]);
    }

    private sealed record StreamResult(int Acked, int Resent, int Duplicates, int Reconnections, List<double> AckLatenciesMs, List<string> Problems);

    /// <summary>
    /// One adapter connection. Closed loop, like customers: each conversation asks its next question
    /// once the previous one is acknowledged, and every conversation is in flight at once. A reader
    /// of all the connection's entries checks that each conversation arrives whole, in order.
    /// </summary>
    private static async Task<StreamResult> RunStreamAsync(GrpcChannel grpc, LoadOptions options, string run, int stream, CancellationToken cancellationToken)
    {
        var threads = Enumerable.Range(0, options.Conversations).Where(i => i % options.Streams == stream).Select(i => $"{run}-{i}").ToArray();
        var entriesPerConversation = 1 + (2 * options.Turns);
        var expectedAcks = threads.Length * options.Turns;
        var expectedEntries = threads.Length * entriesPerConversation;
        var problems = new ConcurrentQueue<string>();
        var latencies = new double[expectedAcks];
        var acked = 0;
        var resent = 0;
        var duplicates = 0;
        var reconnections = 0;

        await using var connection = ChannelConnection.Open(new ChannelConnectionOptions
        {
            Channel = "loadtest",
            GrpcChannels = [grpc],

            // The run's own deadline bounds every wait; the reader may hold all of this stream's
            // entries, so none is dropped and read again (which would add load the old runs had not).
            AckTimeout = TimeSpan.FromSeconds(options.MaxSeconds),
            ReadBufferCapacity = Math.Max(expectedEntries, 1),
            OnStateChange = change =>
            {
                if (change.State == ConnectionState.Reconnecting)
                {
                    Interlocked.Increment(ref reconnections);
                }
            },
        });

        // Subscribes before the first message is sent (the reader runs synchronously up to its first wait).
        var reader = new EntryCheck(expectedEntries);
        var reading = reader.ReadAsync(connection, cancellationToken);

        async Task ConverseAsync(int thread)
        {
            for (var turn = 0; turn < options.Turns; turn++)
            {
                var started = Stopwatch.GetTimestamp();
                MessageAck ack;
                try
                {
                    // Unique across streams and runs, as adapters' message ids are.
                    ack = await connection.SendAsync(
                        new InboundMessage
                        {
                            MessageId = $"{threads[thread]}/{turn}",
                            Conversation = ConversationAddress.ForThread(threads[thread]),
                            Customer = new CustomerIdentity { ExternalCustomerId = threads[thread] },
                            Text = Questions[(thread + turn) % Questions.Length],
                        },
                        cancellationToken);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    return; // counted once for the stream below
                }
                catch (Exception ex) when (ex is TimeoutException or ConnectionFailedException)
                {
                    problems.Enqueue($"{threads[thread]}/{turn}: {ex.Message}");
                    return;
                }

                latencies[(thread * options.Turns) + turn] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                Interlocked.Increment(ref acked);
                if (ack.Attempts > 1)
                {
                    Interlocked.Increment(ref resent);
                }

                if (ack.Status == AckStatus.Duplicate)
                {
                    Interlocked.Increment(ref duplicates); // resent after a reconnection, stored once
                }
                else if (ack.Status != AckStatus.Accepted)
                {
                    problems.Enqueue($"{ack.MessageId}: {ack.Status} {ack.Code} {ack.Detail}");
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, threads.Length).Select(ConverseAsync));
        await reading;
        if (acked < expectedAcks || reader.Received < expectedEntries)
        {
            problems.Enqueue(cancellationToken.IsCancellationRequested
                ? $"stream {stream}: stopped at the time limit with {acked}/{expectedAcks} acks and {reader.Received}/{expectedEntries} entries"
                : $"stream {stream}: ended with {acked}/{expectedAcks} acks and {reader.Received}/{expectedEntries} entries");
        }

        foreach (var (conversation, sequences) in reader.Sequences)
        {
            if (sequences.Count != entriesPerConversation || !sequences.SequenceEqual(Enumerable.Range(1, sequences.Count).Select(s => (ulong)s)))
            {
                problems.Enqueue($"conversation {conversation}: sequences {string.Join(',', sequences)}");
            }
        }

        var acknowledged = latencies.Where(l => l > 0).ToList();
        return new StreamResult(acked, resent, duplicates, reconnections, acknowledged, [.. problems]);
    }

    /// <summary>Files each conversation's entries as the connection's reader passes them on.</summary>
    private sealed class EntryCheck(int expected)
    {
        public Dictionary<string, List<ulong>> Sequences { get; } = new(StringComparer.Ordinal);

        public int Received { get; private set; }

        public async Task ReadAsync(ChannelConnection connection, CancellationToken cancellationToken)
        {
            try
            {
                await foreach (var entry in connection.ReadAllAsync(cancellationToken))
                {
                    if (!Sequences.TryGetValue(entry.ConversationId, out var sequences))
                    {
                        Sequences[entry.ConversationId] = sequences = [];
                    }

                    sequences.Add(entry.Sequence);
                    if (++Received == expected)
                    {
                        return;
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // The time limit: what arrived is checked.
            }
            catch (ConnectionFailedException)
            {
                // Counted by the caller: fewer entries than expected.
            }
        }
    }
}

/// <summary>What one closed-loop channel run measured (<see cref="ChannelLoad.MeasureAsync"/>).</summary>
internal sealed record ChannelRunResult(
    int Messages,
    int Expected,
    TimeSpan Elapsed,
    LatencySummary AckLatency,
    double GeneratorCpuSeconds,
    long AllocatedBytes,
    int Resent,
    int Reconnections,
    int Duplicates,
    IReadOnlyList<string> Problems)
{
    public double MessagesPerSecond => Elapsed > TimeSpan.Zero ? Messages / Elapsed.TotalSeconds : 0;

    /// <summary>Every message acknowledged, every conversation complete, in order, gap-free.</summary>
    public bool Passed => Problems.Count == 0 && Messages == Expected;
}
