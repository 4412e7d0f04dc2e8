using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using ContactGrains.Client;
using ContactGrains.Protos.V1;
using Grpc.Core;

namespace ContactGrains.LoadTest;

/// <summary>
/// Customers who all want a human at once, and agent desktops (<see cref="AgentConnection"/>)
/// accepting as fast as they can: every conversation is asked about refunds, handed to the billing
/// queue, accepted, answered once and resolved. Measures speed to answer and checks capacity, double assignment and loss.
/// </summary>
internal static class HandoffLoad
{
    private const int Capacity = 3;

    public static async Task<int> RunAsync(LoadOptions options, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(options.MaxSeconds));
        using var grpc = ChannelClient.OpenChannel(options.Address);
        var callTimeout = TimeSpan.FromSeconds(options.MaxSeconds);

        // Customers write through the unary call (SendMessage), as webhook-style adapters do.
        await using var adapter = ChannelConnection.Open(new ChannelConnectionOptions { Channel = "loadtest", GrpcChannels = [grpc], CallTimeout = callTimeout });
        var run = Guid.NewGuid().ToString("N")[..8];
        Console.WriteLine($"handoff load: {options.Conversations} conversations wanting a human, {options.Agents} agents (capacity {Capacity}) at {options.Address} (stops after {options.MaxSeconds} s)");

        // Accepts every offer at once (no think time), answers once and resolves.
        var behaviour = new DeskBehaviour(
            DeskBehaviour.ProfileOf(Capacity, ["billing"], ["en"]), TimeSpan.Zero, 0, _ => "Your refund was issued today.", "refund-explained");
        var floor = new DeskFloor();
        LoadDesk[] desks;
        try
        {
            desks = await Task.WhenAll(Enumerable.Range(0, options.Agents).Select(i => LoadDesk.ConnectAsync(grpc, $"load-{run}-{i}", behaviour, floor, callTimeout, deadline.Token)));
        }
        catch (Exception ex) when (ex is ConnectionFailedException or OperationCanceledException)
        {
            Console.WriteLine($"result: FAILED (the agent desktops could not connect: {ex.Message})");
            return 1;
        }

        var cpuBefore = Stats.OwnCpuSeconds();
        var total = Stopwatch.StartNew();
        var problems = new ConcurrentQueue<string>();
        using var customersInFlight = new SemaphoreSlim(64);
        var customers = Enumerable.Range(0, options.Conversations).Select(async i =>
        {
            await customersInFlight.WaitAsync(deadline.Token);
            try
            {
                var thread = $"{run}-{i}";
                foreach (var (turn, text) in new[] { (0, "Where is my refund?"), (1, "I want to speak to a human") })
                {
                    var response = await adapter.PostMessageAsync(
                        new InboundMessage
                        {
                            MessageId = $"{thread}/{turn}",
                            Conversation = ConversationAddress.ForThread(thread),
                            Customer = new CustomerIdentity { ExternalCustomerId = thread, Language = "en" },
                            Text = text,
                        },
                        deadline.Token);
                    if (response.Ack.Status != AckStatus.Accepted)
                    {
                        problems.Enqueue($"{thread}: {response.Ack.Status} {response.Ack.Detail}");
                    }
                }
            }
            finally
            {
                customersInFlight.Release();
            }
        }).ToList();

        try
        {
            await Task.WhenAll(customers);
            while (desks.Sum(d => d.Resolved.Count) < options.Conversations)
            {
                await Task.Delay(100, deadline.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException || (ex is RpcException { StatusCode: StatusCode.Cancelled } && deadline.IsCancellationRequested))
        {
            problems.Enqueue($"stopped at the time limit with {desks.Sum(d => d.Resolved.Count)}/{options.Conversations} resolved");
        }

        total.Stop();
        var cpu = Stats.OwnCpuSeconds() - cpuBefore;
        var resolved = desks.SelectMany(d => d.Resolved).ToList();
        var duplicates = resolved.GroupBy(c => c).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        QueueStats? queue = null;
        try
        {
            using var statsTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            queue = (await desks[0].Connection.GetQueueStatsAsync("billing", "en", statsTimeout.Token)).Single();
        }
        catch (RpcException ex)
        {
            problems.Enqueue($"queue statistics unavailable: {ex.StatusCode} {ex.Status.Detail}");
        }

        foreach (var desk in desks)
        {
            await desk.DisposeAsync();
        }

        var speedToAnswer = desks.SelectMany(d => d.SpeedToAnswerMs).ToList();
        var acceptLatency = desks.SelectMany(d => d.AcceptLatencyMs).ToList();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"resolved {resolved.Count}/{options.Conversations} conversations in {total.Elapsed.TotalSeconds:F2} s: {resolved.Count / total.Elapsed.TotalSeconds:F1} handoffs/s (each: 2 customer messages, offer, accept, 1 agent message, resolve)"));
        Console.WriteLine($"speed to answer (queued → accepted): {Stats.Percentiles(speedToAnswer)}");
        Console.WriteLine($"accept call latency: {Stats.Percentiles(acceptLatency)}");
        Console.WriteLine($"most conversations held at once by one agent: {desks.Max(d => d.MaxHeld)} (capacity {Capacity}); offers missed: {desks.Sum(d => d.Missed)}");
        if (queue is not null)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"queue billing:en: answered {queue.Answered}, waiting {queue.Waiting}, service level {(queue.HasServiceLevel ? $"{queue.ServiceLevel:P0}" : "n/a")} within {queue.ServiceLevelThresholdSeconds} s"));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"load generator CPU: {cpu:F2} s ({(resolved.Count > 0 ? $"{cpu * 1_000 / resolved.Count:F2} ms per handoff" : "no handoffs")})"));
        if (desks.Sum(d => d.Reconnections) is > 0 and var reconnections)
        {
            Console.WriteLine($"agent stream reconnections: {reconnections}");
        }

        foreach (var desk in desks.Where(d => d.MaxHeld > Capacity))
        {
            problems.Enqueue($"an agent held {desk.MaxHeld} conversations at once (capacity {Capacity})");
        }

        foreach (var conversation in duplicates)
        {
            problems.Enqueue($"{conversation} was resolved twice");
        }

        foreach (var problem in desks.SelectMany(d => d.Problems))
        {
            problems.Enqueue(problem);
        }

        foreach (var problem in problems.Take(10))
        {
            Console.WriteLine($"problem: {problem}");
        }

        var ok = problems.IsEmpty && resolved.Count == options.Conversations;
        Console.WriteLine(ok ? "result: every conversation answered once, resolved, capacity respected" : $"result: FAILED ({problems.Count} problems)");
        return ok ? 0 : 1;
    }
}
