using System.Collections.Immutable;
using ContactGrains.Contracts;
using ContactGrains.Grains.Ownership;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ContactGrains.Grains.Automation;

/// <summary>The stored policy: every intent's level, the version, and the audit of changes.</summary>
[GenerateSerializer, Alias("cg.AutomationPolicyState")]
public sealed class AutomationPolicyState
{
    [Id(0)] public int Version { get; set; }

    [Id(1)] public Dictionary<string, AutomationLevel> Levels { get; set; } = new(StringComparer.Ordinal);

    [Id(2)] public List<LevelChange> Audit { get; set; } = [];
}

/// <summary>
/// The one automation policy of the cluster (key <see cref="Key"/>). Its first version comes from
/// configuration; each change is a new version with its audit entry. Hot only for writes: silos read
/// it every few seconds into <see cref="AutomationLevelsCache"/>, and customer messages read the cache.
/// </summary>
public sealed partial class AutomationPolicyGrain(
    [PersistentState("automation-policy", StorageNames.Default)] IPersistentState<AutomationPolicyState> state,
    IntentCatalog intents,
    IOptions<AutomationOptions> automation,
    IOptions<OwnershipOptions> ownership,
    TimeProvider time,
    ILogger<AutomationPolicyGrain> logger) : Grain, IAutomationPolicyGrain
{
    public const string Key = "default";

    /// <summary>Audit entries kept in the policy's state (older ones are in the log).</summary>
    public const int AuditKept = 500;

    private AutomationPolicyState State => state.State;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (State.Version == 0)
        {
            var now = time.GetUtcNow();
            await state.CommitAsync(this, logger, () =>
            {
                foreach (var intent in intents.IntentIds)
                {
                    var level = automation.Value.FirstLevel(intent, ownership.Value);
                    State.Levels[intent] = level;
                    State.Audit.Add(new LevelChange(now, intent, null, level, "configuration", "The policy's first version."));
                }

                State.Version = 1;
            });
        }

        await base.OnActivateAsync(cancellationToken);
    }

    public Task<AutomationPolicyView> GetPolicy() => Task.FromResult(View());

    public async Task<AutomationPolicyView> ChangeLevel(string intentId, AutomationLevel level, string changedBy, string reason)
    {
        var known = State.Levels.TryGetValue(intentId, out var from);
        if (AutomationLevels.CheckChange(intentId, from, level, known, ownership.Value.HumanOnlyIntents.Contains(intentId), reason) is { } problem)
        {
            throw new RequestRejectedException(known ? RejectionCode.FailedPrecondition : RejectionCode.InvalidArgument, problem);
        }

        if (from == level)
        {
            return View();
        }

        var now = time.GetUtcNow();
        await state.CommitAsync(this, logger, () =>
        {
            State.Levels[intentId] = level;
            State.Audit.Add(new LevelChange(now, intentId, from, level, changedBy, reason));
            if (State.Audit.Count > AuditKept)
            {
                State.Audit.RemoveRange(0, State.Audit.Count - AuditKept);
            }

            State.Version++;
        });
        LogChanged(intentId, AutomationLevels.Name(from), AutomationLevels.Name(level), changedBy, reason);
        return View();
    }

    public async Task<AutomationPolicyView> Demote(string intentId, AutomationLevel from, string evidence)
    {
        if (!State.Levels.TryGetValue(intentId, out var current) || current != from || !AutomationLevels.BotAnswers(from))
        {
            return View();
        }

        var to = AutomationLevels.Demoted(from);
        var now = time.GetUtcNow();
        await state.CommitAsync(this, logger, () =>
        {
            State.Levels[intentId] = to;
            State.Audit.Add(new LevelChange(now, intentId, from, to, DemotionRuleName, evidence));
            if (State.Audit.Count > AuditKept)
            {
                State.Audit.RemoveRange(0, State.Audit.Count - AuditKept);
            }

            State.Version++;
        });

        // Supervisors are told in the log (warning) and the audit; promotion back is theirs to decide.
        LogDemoted(intentId, AutomationLevels.Name(from), AutomationLevels.Name(to), evidence);
        return View();
    }

    /// <summary>Who the audit names for automatic demotions.</summary>
    public const string DemotionRuleName = "demotion-rule";

    private AutomationPolicyView View() => new(
        State.Version,
        State.Levels.ToImmutableSortedDictionary(StringComparer.Ordinal),
        [.. State.Audit]);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Intent {IntentId} demoted automatically from {From} to {To}: {Evidence} A supervisor may promote it back.")]
    private partial void LogDemoted(string intentId, string from, string to, string evidence);

    [LoggerMessage(Level = LogLevel.Information, Message = "Automation of intent {IntentId}: {From} -> {To} by {ChangedBy} ({Reason})")]
    private partial void LogChanged(string intentId, string from, string to, string changedBy, string reason);
}
