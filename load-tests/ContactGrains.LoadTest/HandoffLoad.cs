using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using ContactGrains.Client;
using ContactGrains.Protos.V1;
using Grpc.Core;

namespace ContactGrains.LoadTest;

/// <summary>
/// Customers who all want a human at once, and agent desktops accepting as fast as they can: every
/// conversation is asked about refunds, handed to the billing queue, accepted, answered once and
/// resolved. Measures speed to answer and checks capacity, double assignment and loss.
/// </summary>
internal static class HandoffLoad
{
    private const int Capacity = 3;

    public static async Task<int> RunAsync(LoadOptions options)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(options.MaxSeconds));
        using var grpc = ChannelClient.OpenChannel(options.Address);
        var adapter = ChannelClient.Create(grpc, "loadtest");
        var run = Guid.NewGuid().ToString("N")[..8];
        Console.WriteLine($"handoff load: {options.Conversations} conversations wanting a human, {options.Agents} agents (capacity {Capacity}) at {options.Address} (stops after {options.MaxSeconds} s)");

        var desks = Enumerable.Range(0, options.Agents).Select(i => new Desk(AgentClient.Create(grpc, $"load-{run}-{i}"))).ToList();
        await Task.WhenAll(desks.Select(d => d.ConnectAsync(deadline.Token)));

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
                    var response = await adapter.SendMessageAsync(new SendMessageRequest
                    {
                        Message = new InboundMessage
                        {
                            MessageId = $"{thread}/{turn}",
                            Conversation = new ConversationAddress { ExternalThreadId = thread },
                            Customer = new CustomerIdentity { ExternalCustomerId = thread, Language = "en" },
                            Text = text,
                        },
                    }, cancellationToken: deadline.Token);
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
        catch (OperationCanceledException)
        {
            problems.Enqueue($"stopped at the time limit with {desks.Sum(d => d.Resolved.Count)}/{options.Conversations} resolved");
        }

        total.Stop();
        var resolved = desks.SelectMany(d => d.Resolved).ToList();
        var duplicates = resolved.GroupBy(c => c).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        var stats = await AgentClient.Create(grpc, $"load-{run}-0").GetQueueStatsAsync(
            new GetQueueStatsRequest { Queue = new QueueAddress { Skill = "billing", Language = "en" } });
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
        var queue = stats.Queues.Single();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"queue billing:en: answered {queue.Answered}, waiting {queue.Waiting}, service level {(queue.HasServiceLevel ? $"{queue.ServiceLevel:P0}" : "n/a")} within {queue.ServiceLevelThresholdSeconds} s"));

        foreach (var desk in desks.Where(d => d.MaxHeld > Capacity))
        {
            problems.Enqueue($"an agent held {desk.MaxHeld} conversations at once (capacity {Capacity})");
        }

        foreach (var conversation in duplicates)
        {
            problems.Enqueue($"{conversation} was resolved twice");
        }

        foreach (var problem in problems.Take(10))
        {
            Console.WriteLine($"problem: {problem}");
        }

        var ok = problems.IsEmpty && resolved.Count == options.Conversations;
        Console.WriteLine(ok ? "result: every conversation answered once, resolved, capacity respected" : $"result: FAILED ({problems.Count} problems)");
        return ok ? 0 : 1;
    }

    /// <summary>An agent desktop that accepts every offer at once, answers once and resolves.</summary>
    private sealed class Desk(AgentService.AgentServiceClient client) : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Lock _lock = new();
        private readonly HashSet<string> _held = [];
        private AsyncServerStreamingCall<AgentEvent>? _call;
        private Task _reader = Task.CompletedTask;

        public ConcurrentBag<string> Resolved { get; } = [];

        public ConcurrentBag<double> SpeedToAnswerMs { get; } = [];

        public ConcurrentBag<double> AcceptLatencyMs { get; } = [];

        public int MaxHeld { get; private set; }

        public int Missed { get; private set; }

        public async Task ConnectAsync(CancellationToken cancellationToken)
        {
            var profile = new AgentProfile { DisplayName = "Load agent", DefaultCapacity = Capacity };
            profile.Skills.Add(new SkillLevel { Skill = "billing", Proficiency = 3 });
            profile.Languages.Add("en");
            _call = client.Connect(new ConnectRequest { Profile = profile }, cancellationToken: _stop.Token);
            var synced = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _reader = Task.Run(async () =>
            {
                try
                {
                    await foreach (var agentEvent in _call.ResponseStream.ReadAllAsync(_stop.Token))
                    {
                        synced.TrySetResult();
                        if (agentEvent.EventCase == AgentEvent.EventOneofCase.Offer)
                        {
                            _ = HandleAsync(agentEvent.Offer);
                        }
                        else if (agentEvent.OfferWithdrawn?.Reason == WithdrawReason.TimedOut)
                        {
                            Missed++;
                        }
                    }
                }
                catch (Exception ex) when (ex is RpcException or OperationCanceledException)
                {
                    synced.TrySetException(ex);
                }
            }, CancellationToken.None);
            await synced.Task.WaitAsync(cancellationToken);
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
                await client.AcceptOfferAsync(new AcceptOfferRequest { OfferId = offer.OfferId }, cancellationToken: _stop.Token);
                AcceptLatencyMs.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                SpeedToAnswerMs.Add((DateTimeOffset.UtcNow - offer.WaitingSince.ToDateTimeOffset()).TotalMilliseconds);
                await client.SendMessageAsync(new AgentMessageRequest { ConversationId = conversationId, MessageId = $"{offer.OfferId}/1", Text = "Your refund was issued today." }, cancellationToken: _stop.Token);
                Release();
                await client.ResolveAsync(new ResolveRequest { ConversationId = conversationId, WrapUpCode = "refund-explained" }, cancellationToken: _stop.Token);
                Resolved.Add(conversationId);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition)
            {
                // The offer expired before the accept arrived: the queue gives it to someone else.
            }
            finally
            {
                Release();
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            try
            {
                await _reader;
            }
            catch (Exception ex) when (ex is RpcException or OperationCanceledException)
            {
                // Stopped.
            }

            _call?.Dispose();
        }
    }
}
