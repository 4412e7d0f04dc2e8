using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using ContactGrains.Client;
using ContactGrains.Protos.V1;
using Grpc.Core;
using Grpc.Net.Client;

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

        Desk[] desks;
        try
        {
            desks = await Task.WhenAll(Enumerable.Range(0, options.Agents).Select(i => Desk.ConnectAsync(grpc, $"load-{run}-{i}", callTimeout, deadline.Token)));
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

    /// <summary>An agent desktop (an <see cref="AgentConnection"/>) that accepts every offer at once, answers once and resolves.</summary>
    private sealed class Desk : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Lock _lock = new();
        private readonly HashSet<string> _held = [];
        private readonly HashSet<string> _taken = new(StringComparer.Ordinal);
        private readonly ConcurrentBag<Task> _handling = [];
        private Task _reading = Task.CompletedTask;

        private Desk(AgentConnection connection)
        {
            Connection = connection;
        }

        public AgentConnection Connection { get; }

        public ConcurrentBag<string> Resolved { get; } = [];

        public ConcurrentBag<double> SpeedToAnswerMs { get; } = [];

        public ConcurrentBag<double> AcceptLatencyMs { get; } = [];

        public ConcurrentQueue<string> Problems { get; } = [];

        public int MaxHeld { get; private set; }

        public int Missed { get; private set; }

        public int Reconnections { get; private set; }

        /// <summary>Signs the agent in (capacity 3, billing, English) and starts taking offers once its first sync has arrived.</summary>
        public static async Task<Desk> ConnectAsync(GrpcChannel grpc, string agentId, TimeSpan callTimeout, CancellationToken cancellationToken)
        {
            var profile = new AgentProfile { DisplayName = "Load agent", DefaultCapacity = Capacity };
            profile.Skills.Add(new SkillLevel { Skill = "billing", Proficiency = 3 });
            profile.Languages.Add("en");
            var connection = await AgentConnection.ConnectAsync(
                new AgentConnectionOptions { AgentId = agentId, Profile = profile, GrpcChannels = [grpc], CallTimeout = callTimeout },
                cancellationToken);
            var desk = new Desk(connection);
            desk._reading = desk.ReadAsync(); // subscribed before this returns: its first event is the sync
            return desk;
        }

        private async Task ReadAsync()
        {
            try
            {
                await foreach (var deskEvent in Connection.ReadEventsAsync(_stop.Token))
                {
                    switch (deskEvent)
                    {
                        case AgentDeskEvent.OfferReceived received:
                            Take(received.Offer);
                            break;
                        case AgentDeskEvent.Synced synced:
                            // The first event, and after a reconnection or a reader that fell behind: offers it holds are new here too.
                            foreach (var offer in synced.Sync.Offers)
                            {
                                Take(offer);
                            }

                            break;
                        case AgentDeskEvent.OfferWithdrawn { Reason: WithdrawReason.TimedOut }:
                            Missed++;
                            break;
                        case AgentDeskEvent.ConnectionChanged { Change.State: ConnectionState.Reconnecting }:
                            Reconnections++;
                            break;
                    }
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                // Stopped.
            }
            catch (ConnectionFailedException ex)
            {
                Problems.Enqueue($"agent {Connection.AgentId}: {ex.Message}");
            }
        }

        private void Take(Offer offer)
        {
            if (_taken.Add(offer.OfferId))
            {
                _handling.Add(HandleAsync(offer));
            }
        }

        // Counted from the offer's arrival (after the agent grain reserved the slot) until just before
        // the resolve is sent (before the grain frees it): never more than the grain counts, so a
        // figure above capacity here is a real overload.
        private async Task HandleAsync(Offer offer)
        {
            var conversationId = offer.Context.ConversationId;
            lock (_lock)
            {
                _held.Add(conversationId);
                MaxHeld = Math.Max(MaxHeld, _held.Count);
            }

            void Release()
            {
                lock (_lock)
                {
                    _held.Remove(conversationId);
                }
            }

            try
            {
                var started = Stopwatch.GetTimestamp();
                await Connection.AcceptAsync(offer.OfferId, _stop.Token);
                AcceptLatencyMs.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                SpeedToAnswerMs.Add((DateTimeOffset.UtcNow - offer.WaitingSince.ToDateTimeOffset()).TotalMilliseconds);
                await Connection.SendAsync(conversationId, "Your refund was issued today.", $"{offer.OfferId}/1", _stop.Token);
                Release();
                await Connection.ResolveAsync(conversationId, "refund-explained", cancellationToken: _stop.Token);
                Resolved.Add(conversationId);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition)
            {
                // The offer expired before the accept arrived: the queue gives it to someone else.
            }
            catch (Exception ex) when (_stop.IsCancellationRequested && ex is OperationCanceledException or RpcException or ObjectDisposedException)
            {
                // Stopped at the time limit.
            }
            catch (RpcException ex)
            {
                Problems.Enqueue($"agent {Connection.AgentId}, offer {offer.OfferId}: {ex.StatusCode} {ex.Status.Detail}");
            }
            finally
            {
                Release();
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _reading;
            await Task.WhenAll(_handling);
            await Connection.DisposeAsync();
            _stop.Dispose();
        }
    }
}
