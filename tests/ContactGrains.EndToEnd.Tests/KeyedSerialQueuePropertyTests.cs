using System.Collections.Concurrent;
using System.Collections.Immutable;
using ContactGrains.Silo.Channels;
using CsCheck;

namespace ContactGrains.EndToEnd.Tests;

/// <summary>
/// The ordering the adapter stream relies on, over random workloads: keys, work that yields or
/// completes at once, enqueues spread out or in bursts, work held until after <see cref="KeyedSerialQueue.WhenIdleAsync"/>
/// was asked for and then released in random order.
/// </summary>
public sealed class KeyedSerialQueuePropertyTests
{
    private const int Iterations = 200;

    [Fact]
    public async Task Items_with_the_same_key_run_one_at_a_time_in_enqueue_order()
    {
        await QueueWorkloads.Generate(throwing: false).SampleAsync(
            async workload =>
            {
                var run = await QueueRun.ExecuteAsync(workload, overlapBarrier: false);
                run.AssertNoViolations();
                run.AssertRanInEnqueueOrder(workload.Items);
                Assert.Null(run.IdleFault);
            },
            iter: Iterations,
            print: workload => workload.ToString());
    }

    [Fact]
    public async Task Items_with_different_keys_run_concurrently()
    {
        // The first item of every key waits until the first items of all keys are running: if keys
        // were serialized with each other, it would wait forever (the run's safety timeout reports it).
        await QueueWorkloads.Generate(throwing: false).SampleAsync(
            async workload =>
            {
                var run = await QueueRun.ExecuteAsync(workload, overlapBarrier: true);
                run.AssertNoViolations();
                run.AssertRanInEnqueueOrder(workload.Items);
            },
            iter: Iterations,
            print: workload => workload.ToString());
    }

    [Fact]
    public async Task WhenIdleAsync_completes_only_after_every_queued_item_finished()
    {
        await QueueWorkloads.Generate(throwing: false).SampleAsync(
            async workload =>
            {
                var run = await QueueRun.ExecuteAsync(workload, overlapBarrier: false);
                run.AssertNoViolations();
                Assert.True(
                    run.FinishedWhenIdle == workload.Items.Length,
                    $"WhenIdleAsync completed when {run.FinishedWhenIdle} of {workload.Items.Length} items had finished");
            },
            iter: Iterations,
            print: workload => workload.ToString());
    }

    /// <summary>
    /// Work should not throw; if an item does anyway, nothing else is lost: every other item, on its
    /// key or any other, runs in order, and WhenIdleAsync waits for them all.
    /// </summary>
    [Fact]
    public async Task Work_that_throws_holds_up_nothing_behind_it()
    {
        await QueueWorkloads.Generate(throwing: true).SampleAsync(
            async workload =>
            {
                var run = await QueueRun.ExecuteAsync(workload, overlapBarrier: false);
                run.AssertNoViolations();
                run.AssertRanInEnqueueOrder(workload.Items);
                var others = workload.Items.Where(i => !i.Throws).ToImmutableArray();
                var otherIndexes = others.Select(i => i.Index).ToHashSet();
                Assert.True(
                    run.FinishedBeforeIdle.IsSupersetOf(otherIndexes),
                    $"WhenIdleAsync completed before items {string.Join(" ", otherIndexes.Except(run.FinishedBeforeIdle).Order().Select(i => "#" + i))} had finished");
                if (!workload.Items.Any(i => i.Throws))
                {
                    Assert.Null(run.IdleFault);
                }
            },
            iter: Iterations,
            print: workload => workload.ToString());
    }
}

/// <summary>One queued work item: what it does while it runs.</summary>
internal sealed record QueueItem(int Index, int Key, int Yields, int Spins, bool Gated, bool Throws, bool YieldAfterEnqueue)
{
    public string KeyName => $"k{Key}";

    public override string ToString()
    {
        var parts = new List<string> { $"#{Index} {KeyName}" };
        if (Yields == 0 && Spins == 0 && !Gated)
        {
            parts.Add("completes at once");
        }

        if (Gated)
        {
            parts.Add("held until released");
        }

        if (Yields > 0)
        {
            parts.Add($"yields {Yields}x");
        }

        if (Spins > 0)
        {
            parts.Add($"spins {Spins}");
        }

        if (Throws)
        {
            parts.Add("THROWS");
        }

        if (YieldAfterEnqueue)
        {
            parts.Add("(producer yields after enqueueing it)");
        }

        return string.Join(", ", parts);
    }
}

/// <summary>Items in enqueue order, and the order in which held items are released.</summary>
internal sealed record QueueWorkload(ImmutableArray<QueueItem> Items, ImmutableArray<int> ReleaseOrder)
{
    public override string ToString() =>
        string.Join(Environment.NewLine, [
            "enqueued:",
            .. Items.Select(i => "  " + i),
            ReleaseOrder.IsEmpty ? "nothing held" : "released after WhenIdleAsync: " + string.Join(" ", ReleaseOrder.Select(i => "#" + i)),
        ]);
}

internal static class QueueWorkloads
{
    public static Gen<QueueWorkload> Generate(bool throwing)
    {
        var item = Gen.Select(
            Gen.Int[0, 3],
            Gen.Frequency((1, Gen.Const(0)), (2, Gen.Int[1, 3])),
            Gen.Frequency((3, Gen.Const(0)), (1, Gen.Int[1, 500])),
            Gen.Frequency((3, false), (1, true)),
            throwing ? Gen.Frequency((4, false), (1, true)) : Gen.Const(false),
            Gen.Bool,
            (key, yields, spins, gated, throws, yieldAfter) => (key, yields, spins, gated, throws, yieldAfter));
        return item.Array[1, 40].SelectMany(shapes =>
        {
            var items = shapes.Select((s, index) => new QueueItem(index, s.key, s.yields, s.spins, s.gated, s.throws, s.yieldAfter)).ToImmutableArray();
            var held = items.Where(i => i.Gated).Select(i => i.Index).ToArray();
            return Gen.Shuffle(held).Select(order => new QueueWorkload(items, [.. order]));
        });
    }
}

/// <summary>Runs a workload through a fresh queue and records what the work items saw.</summary>
internal sealed class QueueRun
{
    // Only stops a hung run (a lost item, keys that never overlap); a passing run never waits on it.
    private static readonly TimeSpan SafetyTimeout = TimeSpan.FromSeconds(30);

    private readonly QueueWorkload _workload;
    private readonly int[] _running = new int[4];
    private readonly TaskCompletionSource[] _gates;
    private readonly HashSet<int> _heads;
    private readonly TaskCompletionSource _allHeadsStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentQueue<int> _started = new();
    private readonly ConcurrentQueue<string> _violations = new();
    private readonly ConcurrentDictionary<int, bool> _finished = new();
    private int _headsStarted;
    private Task? _idle;

    private QueueRun(QueueWorkload workload, bool overlapBarrier)
    {
        _workload = workload;
        _gates = [.. workload.Items.Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously))];
        var heads = workload.Items.GroupBy(i => i.Key).Select(g => g.First().Index).ToHashSet();
        _heads = overlapBarrier && heads.Count > 1 ? heads : [];
    }

    /// <summary>How many items had finished at the moment WhenIdleAsync completed.</summary>
    public int FinishedWhenIdle => FinishedBeforeIdle.Count;

    /// <summary>The items that had finished at the moment WhenIdleAsync completed.</summary>
    public IReadOnlySet<int> FinishedBeforeIdle { get; private set; } = new HashSet<int>();

    /// <summary>What WhenIdleAsync failed with, if it did.</summary>
    public Exception? IdleFault { get; private set; }

    public static async Task<QueueRun> ExecuteAsync(QueueWorkload workload, bool overlapBarrier)
    {
        var run = new QueueRun(workload, overlapBarrier);

        // Off the test framework's synchronization context, so yields in the work land on pool threads.
        await Task.Run(run.RunAsync);
        return run;
    }

    public void AssertNoViolations() =>
        Assert.True(_violations.IsEmpty, string.Join(Environment.NewLine, _violations));

    /// <summary>Each of <paramref name="items"/> ran, and per key they started in the order they were queued.</summary>
    public void AssertRanInEnqueueOrder(IEnumerable<QueueItem> items)
    {
        var started = _started.ToList();
        foreach (var key in items.GroupBy(i => i.Key))
        {
            var queued = key.Select(i => i.Index).ToList();
            var ran = started.Where(index => _workload.Items[index].Key == key.Key).ToList();
            Assert.True(
                ran.SequenceEqual(queued),
                $"k{key.Key}: queued [{string.Join(" ", queued.Select(i => "#" + i))}], started [{string.Join(" ", ran.Select(i => "#" + i))}]");
        }
    }

    private async Task RunAsync()
    {
        var queue = new KeyedSerialQueue();
        foreach (var item in _workload.Items)
        {
            queue.Enqueue(item.KeyName, () => WorkAsync(item));
            if (item.YieldAfterEnqueue)
            {
                await Task.Yield();
            }
        }

        var idle = queue.WhenIdleAsync();

        // Taken synchronously as the task completes, before anything else can finish.
        var finishedAtIdle = idle.ContinueWith(
            _ => (IReadOnlySet<int>)_finished.Keys.ToHashSet(),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        Volatile.Write(ref _idle, idle);

        foreach (var index in _workload.ReleaseOrder)
        {
            _gates[index].TrySetResult();
            await Task.Yield();
        }

        try
        {
            await idle.WaitAsync(SafetyTimeout);
        }
        catch (TimeoutException)
        {
            _violations.Enqueue($"WhenIdleAsync did not complete within {SafetyTimeout.TotalSeconds} s; started: {string.Join(" ", _started.Select(i => "#" + i))}");
        }
        catch (Exception ex)
        {
            IdleFault = ex;
        }

        if (idle.IsCompleted)
        {
            FinishedBeforeIdle = await finishedAtIdle;
        }
    }

    private async Task WorkAsync(QueueItem item)
    {
        if (Interlocked.Increment(ref _running[item.Key]) != 1)
        {
            _violations.Enqueue($"#{item.Index} started while another {item.KeyName} item was still running");
        }

        _started.Enqueue(item.Index);
        try
        {
            if (item.Gated)
            {
                await _gates[item.Index].Task;
            }

            if (_heads.Contains(item.Index))
            {
                if (Interlocked.Increment(ref _headsStarted) == _heads.Count)
                {
                    _allHeadsStarted.TrySetResult();
                }

                try
                {
                    await _allHeadsStarted.Task.WaitAsync(SafetyTimeout);
                }
                catch (TimeoutException)
                {
                    _violations.Enqueue($"#{item.Index}, first of {item.KeyName}, never ran alongside the first items of the other keys");
                }
            }

            for (var i = 0; i < item.Yields; i++)
            {
                await Task.Yield();
            }

            Thread.SpinWait(item.Spins);
            if (item.Throws)
            {
                throw new InvalidOperationException($"#{item.Index} failed on purpose");
            }
        }
        finally
        {
            Interlocked.Decrement(ref _running[item.Key]);
            _finished[item.Index] = true;
            if (Volatile.Read(ref _idle) is { IsCompleted: true })
            {
                _violations.Enqueue($"#{item.Index} finished after WhenIdleAsync had completed");
            }
        }
    }
}
