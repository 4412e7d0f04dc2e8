using System.Collections.Immutable;
using ContactGrains.Contracts;
using ContactGrains.Grains.Ownership;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ContactGrains.Grains.Automation;

/// <summary>The intents the bot knows, and so the intents the automation policy has a level for.</summary>
public sealed record IntentCatalog(ImmutableArray<string> IntentIds);

/// <summary>
/// This silo's copy of the automation policy, read on every customer message the bot owns (the
/// policy grain is not). Until the first read it answers from configuration, as the policy's first
/// version does; a change made through this silo is applied at once, others within the refresh interval.
/// </summary>
public sealed class AutomationLevelsCache(IOptions<AutomationOptions> automation, IOptions<OwnershipOptions> ownership)
{
    private volatile AutomationPolicyView? _policy;

    public int Version => _policy?.Version ?? 0;

    /// <summary>The level of <paramref name="intentId"/> now.</summary>
    public AutomationLevel LevelOf(string intentId) =>
        _policy is { } policy && policy.Levels.TryGetValue(intentId, out var level) ? level
        : automation.Value.FirstLevel(intentId, ownership.Value);

    /// <summary>Keeps <paramref name="policy"/> unless a newer version is already here.</summary>
    public void Update(AutomationPolicyView policy)
    {
        var current = _policy;
        if (current is null || policy.Version > current.Version)
        {
            _policy = policy;
        }
    }
}

/// <summary>Reads the policy grain into this silo's <see cref="AutomationLevelsCache"/> every refresh interval.</summary>
public sealed partial class AutomationPolicyRefresher(
    IGrainFactory grains, AutomationLevelsCache cache, IOptions<AutomationOptions> options, ILogger<AutomationPolicyRefresher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.RefreshInterval);
        do
        {
            try
            {
                cache.Update(await grains.Get<IAutomationPolicyGrain>(AutomationPolicyGrain.Key).GetPolicy());
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // The silo is starting or stopping, or the policy's silo is unreachable: keep the last copy.
                LogRefreshFailed(ex.GetType().Name);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Reading the automation policy failed ({ExceptionType}); keeping the last copy")]
    private partial void LogRefreshFailed(string exceptionType);
}
