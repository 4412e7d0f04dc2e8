using System.Collections.Concurrent;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using ContactGrains.Client;
using ContactGrains.Protos.V1;
using ContactGrains.Testing;
using Grpc.Core;
using Npgsql;

namespace ContactGrains.LoadTest;

/// <summary>
/// A silo dies under load: a throwaway PostgreSQL, N silo processes in one cluster on it, closed-loop
/// conversations through ChannelConnections that know every silo, one silo SIGKILLed once a third of
/// the messages are acknowledged. Then every message must be acknowledged, and every transcript must
/// hold each customer message exactly once, each answered by the bot; the longest stall and the time
/// until throughput recovered are reported.
/// </summary>
internal static class FailoverLoad
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan RecoveryWindow = TimeSpan.FromMilliseconds(500);

    public static Command CreateCommand(Option<int> maxSeconds)
    {
        var silos = LoadCommands.PositiveNumber("--silos", 3, "Silo processes in the cluster (at least 2); one is killed.", "count");
        silos.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() < 2)
            {
                result.AddError("--silos is at least 2: one is killed and the others carry on.");
            }
        });
        var command = new Command("failover", """
            Starts a throwaway PostgreSQL, migrates it and starts --silos silo processes in one cluster,
            drives closed-loop conversations through connections that know every silo, and SIGKILLs one
            silo once a third of the messages are acknowledged. Checks that every message is acknowledged
            and that every transcript holds each customer message exactly once, each answered by the bot;
            reports the longest stall and the time until throughput recovered. --max-seconds bounds the
            warm-up, the load and its checks (starting the database and the silos has its own 90 s
            limit); everything started is killed and every temp folder removed at the end.
            """)
        {
            silos,
        };
        var load = new LoadShapeOptions(command, maxSeconds, streams: 3, conversations: 200,
            "Connect streams (one ChannelConnection each, starting on silos in turn); the conversations are shared among them.");
        command.SetAction((parse, cancellationToken) =>
            RunAsync(load.Read(parse) with { Silos = parse.GetValue(silos) }, parse.GetValue(load.Report), cancellationToken));
        return command;
    }

    public static async Task<int> RunAsync(LoadOptions options, string? reportDirectory, CancellationToken cancellationToken = default)
    {
        if (ServerCommands.FindBuilt(ServerCommands.SiloProject, ServerCommands.SiloAssembly, "failover") is not { } siloDll)
        {
            return 1;
        }

        var report = ServerCommands.NewReport("failover", options);
        report.Settings["silos"] = ServerCommands.Invariant(options.Silos);
        Console.WriteLine($"failover: {options.Conversations} conversations × {options.Turns} turns over {options.Streams} streams to {options.Silos} silos on a throwaway PostgreSQL; one silo is killed (stops after {options.MaxSeconds} s)");

        var root = Directory.CreateTempSubdirectory("contactgrains-failover-").FullName;
        PostgresServer? postgres = null;
        var silos = new List<ServerProcess>();
        try
        {
            postgres = await PostgresServer.StartAsync();
            var unique = "failover_" + Guid.NewGuid().ToString("N")[..8];
            var database = await postgres.CreateDatabaseAsync(unique);
            var dll = RepositoryBuild.CopyOutput(siloDll, Path.Combine(root, "silo"));
            await ServerProcess.RunToEndAsync("migrate", dll, ["migrate", $"--ContactGrains:Storage:ConnectionString={database}"], root, StartTimeout);

            // A bounded pool per silo keeps several silos under load below the server's 300 connections.
            var connectionString = new NpgsqlConnectionStringBuilder(database) { MaxPoolSize = 40 }.ConnectionString;
            for (var i = 0; i < options.Silos; i++)
            {
                var settings = new SiloSettings($"silo-{i}", connectionString, unique, unique);
                silos.Add(ServerProcess.Start(settings.Name, dll, settings.Arguments, root, settings.Address));
            }

            await Task.WhenAll(silos.Select(s => s.WaitServingAsync(StartTimeout)));
            Console.WriteLine($"cluster ready: {string.Join(", ", silos.Select(s => $"{s.Name} {s.Address}"))}");
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(TimeSpan.FromSeconds(options.MaxSeconds));
            await WarmUpAsync(options, silos, deadline.Token);
            var drive = await DriveAsync(options, silos, victim: silos[0], deadline.Token);
            await VerifyAsync(options, drive, [.. silos.Skip(1).Select(s => s.Address)], report, deadline.Token);
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or IOException or RpcException or NpgsqlException
            || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            report.Problems.Add(ex is OperationCanceledException ? $"stopped at the time limit ({options.MaxSeconds} s)" : ex.Message);
            report.Passed = false;
        }
        finally
        {
            try
            {
                foreach (var silo in silos)
                {
                    await silo.DisposeAsync();
                }
            }
            finally
            {
                try
                {
                    if (postgres is not null)
                    {
                        await postgres.DisposeAsync();
                    }
                }
                finally
                {
                    Directory.Delete(root, recursive: true);
                }
            }
        }

        return report.Conclude(reportDirectory, "every message acknowledged, every customer message stored exactly once and answered, across the kill");
    }

    /// <summary>
    /// A short channel load through each silo first, on conversations of their own, so the stall
    /// measured across the kill is the failover's and not a cold cluster's (JIT, first activations, pools).
    /// </summary>
    private static async Task WarmUpAsync(LoadOptions options, List<ServerProcess> silos, CancellationToken cancellationToken)
    {
        foreach (var silo in silos)
        {
            var warmUp = await ChannelLoad.MeasureAsync(
                new LoadOptions
                {
                    Address = silo.Address,
                    Streams = 1,
                    Conversations = Math.Max(2, options.Conversations / (4 * silos.Count)),
                    Turns = options.Turns,
                    MaxSeconds = options.MaxSeconds,
                },
                cancellationToken);
            if (!warmUp.Passed)
            {
                throw new InvalidOperationException($"The warm-up through {silo.Name} failed: {string.Join("; ", warmUp.Problems.Take(3))}\n{silo.LogTail()}");
            }
        }
    }

    /// <summary>What the load saw: per conversation, its acks (time since the run began), and the kill.</summary>
    private sealed record Drive(
        string Run,
        ConcurrentQueue<(int Conversation, string MessageId, TimeSpan At, AckStatus Status)>[] Acks,
        TimeSpan? KilledAt,
        TimeSpan Elapsed,
        LatencyHistogram Latency,
        int Reconnections,
        List<string> Problems)
    {
        public string Thread(int conversation) => Invariant($"{Run}-{conversation}");

        public static string MessageId(string thread, int turn) => Invariant($"{thread}/{turn}");
    }

    private static async Task<Drive> DriveAsync(LoadOptions options, List<ServerProcess> silos, ServerProcess victim, CancellationToken cancellationToken)
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var total = options.Conversations * options.Turns;
        var killAfter = Math.Max(1, total / 3);
        var clock = Stopwatch.StartNew();
        var acks = Enumerable.Range(0, options.Conversations).Select(_ => new ConcurrentQueue<(int, string, TimeSpan, AckStatus)>()).ToArray();
        var latency = new LatencyHistogram();
        var problems = new ConcurrentQueue<string>();
        var acked = 0;
        var reconnections = 0;
        var killNow = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        TimeSpan? killedAt = null;

        var killer = Task.Run(async () =>
        {
            await killNow.Task.WaitAsync(cancellationToken);
            killedAt = clock.Elapsed;
            var ackedAtKill = Volatile.Read(ref acked);
            await victim.KillAsync();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"killed {victim.Name} (SIGKILL) at {killedAt.Value.TotalSeconds:F2} s, after {ackedAtKill}/{total} acks"));
        }, CancellationToken.None);

        async Task StreamAsync(int stream)
        {
            // Each stream starts on another silo, so the killed one carries some of them.
            await using var connection = ChannelConnection.Open(new ChannelConnectionOptions
            {
                Channel = "loadtest",
                Addresses = [.. Enumerable.Range(0, silos.Count).Select(k => silos[(stream + k) % silos.Count].Address)],
                AckTimeout = TimeSpan.FromSeconds(options.MaxSeconds),

                // UNAVAILABLE while the cluster notices the death is retried with the same id until the run's deadline.
                SendAttempts = 1000,
                OnStateChange = change =>
                {
                    if (change.State == ConnectionState.Reconnecting)
                    {
                        Interlocked.Increment(ref reconnections);
                    }
                },
            });
            await Task.WhenAll(Enumerable.Range(0, options.Conversations).Where(i => i % options.Streams == stream).Select(ConverseAsync));

            async Task ConverseAsync(int conversation)
            {
                var thread = Invariant($"{run}-{conversation}");
                for (var turn = 0; turn < options.Turns; turn++)
                {
                    var messageId = Drive.MessageId(thread, turn);
                    var sent = Stopwatch.GetTimestamp();
                    MessageAck ack;
                    try
                    {
                        ack = await connection.SendAsync(
                            new InboundMessage
                            {
                                MessageId = messageId,
                                Conversation = ConversationAddress.ForThread(thread),
                                Customer = new CustomerIdentity { ExternalCustomerId = thread },
                                Text = SampleQuestions.All[(conversation + turn) % SampleQuestions.All.Length].Text,
                            },
                            cancellationToken);
                    }
                    catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                    {
                        return; // counted as lost below
                    }
                    catch (Exception ex) when (ex is TimeoutException or ConnectionFailedException)
                    {
                        problems.Enqueue($"{messageId}: {ex.Message}");
                        return;
                    }

                    if (!ack.IsStored)
                    {
                        problems.Enqueue($"{messageId}: {ack.Status} {ack.Code} {ack.Detail}");
                        return;
                    }

                    latency.RecordSince(sent);
                    acks[conversation].Enqueue((conversation, messageId, clock.Elapsed, ack.Status));
                    if (Interlocked.Increment(ref acked) == killAfter)
                    {
                        killNow.TrySetResult();
                    }
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, Math.Min(options.Streams, options.Conversations)).Select(StreamAsync));
        var elapsed = clock.Elapsed;

        // Ended before the kill (conversations that failed early): nothing is left to kill under load.
        killNow.TrySetCanceled();
        try
        {
            await killer;
        }
        catch (OperationCanceledException)
        {
            problems.Enqueue($"no silo was killed: the run stopped before {killAfter} messages were acknowledged");
        }

        return new Drive(run, acks, killedAt, elapsed, latency, reconnections, [.. problems]);
    }

    /// <summary>Reads every transcript through the surviving silos and fills the report.</summary>
    private static async Task VerifyAsync(LoadOptions options, Drive drive, IReadOnlyList<string> survivors, LoadReport report, CancellationToken cancellationToken)
    {
        var expected = options.Conversations * options.Turns;
        var acked = drive.Acks.Sum(a => a.Count);
        var duplicateAcks = drive.Acks.Sum(a => a.Count(x => x.Status == AckStatus.Duplicate));
        report.Problems.AddRange(drive.Problems);

        var findings = new TranscriptFindings[options.Conversations];
        await using (var reader = ChannelConnection.Open(new ChannelConnectionOptions { Channel = "loadtest", Addresses = survivors }))
        {
            await Parallel.ForEachAsync(
                Enumerable.Range(0, options.Conversations),
                new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken },
                async (conversation, token) =>
                {
                    var thread = drive.Thread(conversation);
                    var entries = await ReadTranscriptAsync(reader, thread, token);
                    findings[conversation] = FailoverChecks.Check(entries, drive.Acks[conversation].Select(a => a.MessageId));
                });
        }

        var duplicated = findings.Sum(f => f.Duplicated);
        var missing = findings.Sum(f => f.Missing);
        var unanswered = findings.Sum(f => f.Unanswered);
        foreach (var (finding, conversation) in findings.Select((f, i) => (f, i)).Where(x => !x.f.Clean).Take(10))
        {
            report.Problems.Add($"conversation {drive.Thread(conversation)}: {finding.Missing} acknowledged messages missing, {finding.Duplicated} stored twice, {finding.Unanswered} unanswered{(finding.SequenceProblem is { } p ? $", {p}" : "")}");
        }

        var lost = expected - acked + missing;
        var ackTimes = drive.Acks.Select(a => (IReadOnlyList<TimeSpan>)[.. a.Select(x => x.At).Order()]).ToList();
        var stall = drive.KilledAt is { } kill ? FailoverChecks.LongestStall(ackTimes, kill) : (TimeSpan?)null;
        var moving = drive.KilledAt is { } killed ? FailoverChecks.AllMovingAgain(ackTimes, killed) : (TimeSpan?)null;
        var recovery = drive.KilledAt is { } killedAt
            ? FailoverChecks.Recovery([.. ackTimes.SelectMany(a => a)], TimeSpan.Zero, killedAt, RecoveryWindow)
            : null;

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"acked {acked}/{expected} messages in {drive.Elapsed.TotalSeconds:F2} s ({duplicateAcks} acknowledged as duplicates after a resend; {drive.Reconnections} stream reconnections)"));
        Console.WriteLine($"transcripts: lost {lost}, duplicated {duplicated}, unanswered {unanswered}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"longest stall across the kill: {Milliseconds(stall)} ms; every conversation moving again {Milliseconds(moving)} ms after the kill; throughput back to 4/5 of its earlier rate {Milliseconds(recovery)} ms after it"));
        Console.WriteLine($"ack latency: {drive.Latency.Summarize()}");

        report.Add("messages acknowledged", acked, "messages");
        report.Add("lost", lost, "messages");
        report.Add("duplicated", duplicated, "messages");
        report.Add("unanswered", unanswered, "messages");
        report.Add("acknowledged as duplicates", duplicateAcks, "messages");
        report.Add("stream reconnections", drive.Reconnections, "reconnections");
        if (stall is { } s)
        {
            report.Add("longest stall across the kill", s.TotalMilliseconds, "ms");
        }

        if (moving is { } m)
        {
            report.Add("every conversation moving again after", m.TotalMilliseconds, "ms");
        }

        if (recovery is { } r)
        {
            report.Add("throughput back to 4/5 of its earlier rate after", r.TotalMilliseconds, "ms");
        }

        report.Latencies["ack"] = drive.Latency.Summarize();
        report.Passed = drive.KilledAt is not null && lost == 0 && duplicated == 0 && unanswered == 0 && report.Problems.Count == 0;
    }

    private static async Task<List<TimelineEntry>> ReadTranscriptAsync(ChannelConnection reader, string thread, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var entries = new List<TimelineEntry>();
                await foreach (var entry in reader.ReadTranscriptAsync(ConversationAddress.ForThread(thread), cancellationToken: cancellationToken))
                {
                    entries.Add(entry);
                }

                return entries;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
            {
                return []; // no message of it was ever stored: what was acknowledged counts as lost
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded && attempt < 20)
            {
                // The cluster may still be moving the dead silo's grains.
                await Task.Delay(250, cancellationToken);
            }
        }
    }

    private static string Milliseconds(TimeSpan? value) => value is { } v ? v.TotalMilliseconds.ToString("F0", CultureInfo.InvariantCulture) : "?";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
