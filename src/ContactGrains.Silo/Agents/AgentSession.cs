using System.Diagnostics;
using System.Threading.Channels;
using ContactGrains.Contracts;
using ContactGrains.Grains;
using ContactGrains.Grains.Diagnostics;
using ContactGrains.Grains.Routing;
using ContactGrains.Silo.Hosting;
using Grpc.Core;
using Proto = ContactGrains.Protos.V1;

namespace ContactGrains.Silo.Agents;

/// <summary>
/// One agent desktop's stream. The agent grain pushes numbered events to this observer; they are
/// written in order, and any gap (a push lost or overtaken, a new activation of the agent grain, a
/// desktop too slow to keep up) is repaired with a full re-sync rather than guessed at.
/// </summary>
internal sealed partial class AgentSession(
    string agentId,
    IGrainFactory grains,
    RoutingOptions options,
    TimeSpan stalledStreamTimeout,
    ILogger logger) : IAgentObserver
{
    private readonly StalledWriteWatchdog _watchdog = new(stalledStreamTimeout);

    private const int InboxCapacity = 1024;

    /// <summary>How long a later event waits for the one before it before the session re-syncs.</summary>
    private static readonly TimeSpan GapTimeout = TimeSpan.FromSeconds(1);

    private readonly Channel<AgentEvent> _inbox = Channel.CreateBounded<AgentEvent>(
        new BoundedChannelOptions(InboxCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });
    private int _overflowed;

    /// <summary>Called by the agent grain (one-way): only queue the event; the stream's loop writes it.</summary>
    public Task OnEvent(string agentId, AgentEvent agentEvent)
    {
        // The end of a customer message's trace (through the conversation and agent grains): its
        // event reached this agent's stream.
        using var activity = ContactGrainsMetrics.ActivitySource.StartActivity("contactgrains.agent.event", ActivityKind.Consumer);
        activity?.SetTag("contactgrains.agent_id", agentId);
        if (!_inbox.Writer.TryWrite(agentEvent))
        {
            Interlocked.Exchange(ref _overflowed, 1);
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// Runs the stream until the desktop leaves or the silo stops; the latter ends it with
    /// UNAVAILABLE so the desktop reconnects to another silo within its grace period.
    /// </summary>
    public async Task RunAsync(
        AgentProfile? profile, IServerStreamWriter<Proto.AgentEvent> responses, CancellationToken cancellationToken, CancellationToken siloStopping)
    {
        var reference = grains.CreateObjectReference<IAgentObserver>(this);
        var agent = grains.Get<IAgentGrain>(agentId);
        // A desktop that stops reading is treated as gone: its grace period starts, as for a dropped connection.
        using var watchdog = _watchdog;
        using var session = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, siloStopping, watchdog.Token);
        Task heartbeats = Task.CompletedTask;
        try
        {
            var sync = await agent.Connect(profile, reference);
            await _watchdog.WriteAsync(responses, AgentMapping.ToProto(sync, options), session.Token);
            LogConnected(agentId);
            heartbeats = BeatAsync(agent, reference, session.Token);
            await DeliverAsync(agent, reference, sync, responses, session.Token);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The desktop went away: the grace period starts below.
        }
        catch (OperationCanceledException) when (watchdog.Stalled)
        {
            LogStalled(agentId, watchdog.Timeout);
            throw new RpcException(new Status(StatusCode.Unavailable,
                $"This stream was not read for {watchdog.Timeout.TotalSeconds:0} s and was closed; reconnect within the grace period to keep your conversations."));
        }
        catch (OperationCanceledException) when (siloStopping.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.Unavailable,
                "This silo is shutting down; reconnect (another silo will serve you) within the grace period to keep your conversations."));
        }
        finally
        {
            await session.CancelAsync();
            await heartbeats;
            _inbox.Writer.TryComplete();
            try
            {
                await agent.Disconnected(reference).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
            }
            catch (Exception ex)
            {
                // The grain's heartbeat timeout notices the silence anyway.
                LogDisconnectFailed(ex, agentId);
            }

            grains.DeleteObjectReference<IAgentObserver>(reference);
            LogDisconnected(agentId);
        }
    }

    private async Task DeliverAsync(
        IAgentGrain agent, IAgentObserver reference, AgentSync sync, IServerStreamWriter<Proto.AgentEvent> responses, CancellationToken cancellationToken)
    {
        var (epoch, delivered) = (sync.Epoch, sync.Sequence);
        var early = new SortedDictionary<long, AgentEvent>();
        var fromNewEpoch = new List<AgentEvent>();
        DateTimeOffset? gapSince = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            var next = await ReadAsync(early.Count > 0 ? GapTimeout : Timeout.InfiniteTimeSpan, cancellationToken);
            var resync = Interlocked.Exchange(ref _overflowed, 0) == 1;
            if (next is { StreamReplaced: true })
            {
                throw new RpcException(new Status(StatusCode.Aborted,
                    $"Another desktop connected as agent '{agentId}'; this stream was replaced."));
            }

            if (next is not null)
            {
                if (next.Epoch != epoch)
                {
                    resync = true; // the agent grain was re-activated: its numbering started over
                    fromNewEpoch.Add(next);
                }
                else if (next.Sequence > delivered)
                {
                    early[next.Sequence] = next;
                }
            }

            while (early.Remove(delivered + 1, out var inOrder))
            {
                await _watchdog.WriteAsync(responses, AgentMapping.ToProto(inOrder), cancellationToken);
                delivered++;
            }

            gapSince = early.Count == 0 ? null : gapSince ?? DateTimeOffset.UtcNow;
            if (resync || DateTimeOffset.UtcNow - gapSince >= GapTimeout)
            {
                sync = await agent.Resync(reference);
                LogResynced(agentId);
                await _watchdog.WriteAsync(responses, AgentMapping.ToProto(sync, options), cancellationToken);
                (epoch, delivered) = (sync.Epoch, sync.Sequence);
                var later = early.Values.Concat(fromNewEpoch).Where(e => e.Epoch == epoch && e.Sequence > delivered).ToList();
                early.Clear();
                fromNewEpoch.Clear();
                foreach (var e in later)
                {
                    early[e.Sequence] = e;
                }

                gapSince = null;
            }
        }
    }

    /// <summary>The next pushed event, or null when <paramref name="wait"/> passed first.</summary>
    private async Task<AgentEvent?> ReadAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        if (_inbox.Reader.TryRead(out var ready))
        {
            return ready;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(wait);
        try
        {
            return await _inbox.Reader.ReadAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    private async Task BeatAsync(IAgentGrain agent, IAgentObserver reference, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(options.HeartbeatInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                try
                {
                    await agent.Heartbeat(reference);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogHeartbeatFailed(ex, agentId);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The stream ended.
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Agent {AgentId}: desktop stream open")]
    private partial void LogConnected(string agentId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Agent {AgentId}: desktop stream closed")]
    private partial void LogDisconnected(string agentId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Agent {AgentId}: events were lost or reordered; sent a full re-sync")]
    private partial void LogResynced(string agentId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Agent {AgentId}: heartbeat failed")]
    private partial void LogHeartbeatFailed(Exception exception, string agentId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Agent {AgentId}'s stream was not read for {Timeout} and was closed")]
    private partial void LogStalled(string agentId, TimeSpan timeout);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Agent {AgentId}: could not report the stream's end; the heartbeat timeout will")]
    private partial void LogDisconnectFailed(Exception exception, string agentId);
}
