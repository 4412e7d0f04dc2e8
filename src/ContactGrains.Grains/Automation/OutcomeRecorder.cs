using System.Collections.Immutable;
using ContactGrains.Contracts;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ContactGrains.Grains.Automation;

/// <summary>
/// Collects this silo's conversation outcomes per intent and sends them to the intents' grains in
/// batches (<see cref="AutomationOptions.OutcomeFlushInterval"/>), so an intent's grain gets a few
/// calls a minute however many conversations end: pre-aggregated per silo, combined per intent.
/// </summary>
public sealed class OutcomeRecorder
{
    private readonly Lock _lock = new();
    private Dictionary<string, List<DatedOutcome>> _pending = new(StringComparer.Ordinal);

    /// <summary>Buffers one outcome (called by conversation grains; returns at once).</summary>
    public void Record(string intentId, DatedOutcome outcome)
    {
        lock (_lock)
        {
            if (!_pending.TryGetValue(intentId, out var list))
            {
                _pending[intentId] = list = [];
            }

            list.Add(outcome);
        }
    }

    /// <summary>Takes everything buffered so far.</summary>
    public Dictionary<string, List<DatedOutcome>> Take()
    {
        lock (_lock)
        {
            var taken = _pending;
            _pending = new(StringComparer.Ordinal);
            return taken;
        }
    }

    /// <summary>Puts back what could not be sent, to go with the next batch.</summary>
    public void PutBack(string intentId, IEnumerable<DatedOutcome> outcomes)
    {
        lock (_lock)
        {
            if (!_pending.TryGetValue(intentId, out var list))
            {
                _pending[intentId] = list = [];
            }

            list.InsertRange(0, outcomes);
        }
    }
}

/// <summary>Sends <see cref="OutcomeRecorder"/>'s batches to the intents' grains, and what is left when the silo stops.</summary>
public sealed partial class OutcomeFlusher(
    IGrainFactory grains, OutcomeRecorder recorder, IOptions<AutomationOptions> options, ILogger<OutcomeFlusher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.OutcomeFlushInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushAsync();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            await FlushAsync();
        }
    }

    private async Task FlushAsync()
    {
        foreach (var (intentId, outcomes) in recorder.Take())
        {
            try
            {
                await grains.Get<IIntentOutcomesGrain>(intentId).Record([.. outcomes]);
            }
            catch (Exception ex)
            {
                // The intent's silo or the database is unreachable: keep them for the next batch.
                recorder.PutBack(intentId, outcomes);
                LogFlushFailed(ex.GetType().Name, intentId, outcomes.Count);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sending outcomes failed ({ExceptionType}); {Count} outcome(s) of intent {IntentId} wait for the next batch")]
    private partial void LogFlushFailed(string exceptionType, string intentId, int count);
}

/// <summary>
/// One intent's outcome figures over the rolling window (stored), and the demotion rule applied after
/// every batch: a demotion goes to the policy grain with its evidence.
/// </summary>
public sealed partial class IntentOutcomesGrain(
    [PersistentState("intent-outcomes", StorageNames.Default)] IPersistentState<IntentOutcomesState> state,
    AutomationLevelsCache levels,
    IOptions<DemotionOptions> demotion,
    TimeProvider time,
    ILogger<IntentOutcomesGrain> logger) : Grain, IIntentOutcomesGrain
{
    private string IntentId => this.GetPrimaryKeyString();

    public Task<IntentFiguresView> GetFigures()
    {
        var outcomes = state.State.Outcomes ?? RollingOutcomes.Empty();
        var totals = outcomes.Totals(DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime));
        return Task.FromResult(new IntentFiguresView(IntentId, outcomes.WindowDays, Side(totals.Bot), Side(totals.Human)));
    }

    public Task<ImmutableArray<IntentDayView>> GetHistory()
    {
        var outcomes = state.State.Outcomes ?? RollingOutcomes.Empty();
        var first = outcomes.FirstDay(DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime));
        return Task.FromResult(outcomes.Days.Where(d => d.Key >= first)
            .Select(d => new IntentDayView(d.Key, Side(d.Value.Bot), Side(d.Value.Human))).ToImmutableArray());
    }

    private static SideFigures Side(IntentFigures figures) =>
        new(figures.Conversations, figures.Rated, figures.AverageRating, figures.RepeatContactRate, figures.EscalationRate,
            figures.Drafts, figures.DraftAcceptance, figures.Reviewed, figures.ReviewApproval);

    public async Task Record(ImmutableArray<DatedOutcome> outcomes)
    {
        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        await state.CommitAsync(this, logger, () =>
        {
            var figures = state.State.Outcomes ?? RollingOutcomes.Empty();
            foreach (var outcome in outcomes)
            {
                figures = figures.Record(outcome, today);
            }

            state.State.Outcomes = figures;
        });

        var totals = state.State.Outcomes!.Totals(today);
        if (DemotionRule.Evaluate(levels.LevelOf(IntentId), totals, demotion.Value) is { } decision)
        {
            // The policy ignores it if the intent has moved since this silo's copy was read.
            var policy = await GrainFactory.Get<IAutomationPolicyGrain>(AutomationPolicyGrain.Key).Demote(IntentId, decision.From, decision.Evidence);
            levels.Update(policy);
        }
    }
}

[GenerateSerializer, Alias("cg.IntentOutcomesState")]
public sealed class IntentOutcomesState
{
    [Id(0)] public RollingOutcomes? Outcomes { get; set; }
}
