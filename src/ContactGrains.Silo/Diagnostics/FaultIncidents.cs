using System.Globalization;

namespace ContactGrains.Silo.Diagnostics;

/// <summary>
/// Turns a flood of expected faults into incidents: the first failure of a kind opens an incident,
/// logged once as a warning with its cause; later ones are only counted (by the log category that
/// reported them) and summed up every <see cref="ReportInterval"/> while it lasts and once when it
/// ends, after <see cref="QuietPeriod"/> without a failure of that kind. An outage of the database
/// is then a handful of lines per silo, not one stack trace per refused message.
/// </summary>
public sealed partial class FaultIncidents : IDisposable
{
    /// <summary>How long without a failure of a kind before its incident is over.</summary>
    public static readonly TimeSpan QuietPeriod = TimeSpan.FromSeconds(10);

    /// <summary>How often a long incident says it is still going on.</summary>
    public static readonly TimeSpan ReportInterval = TimeSpan.FromMinutes(1);

    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly Dictionary<FaultKind, Incident> _open = [];
    private readonly Dictionary<FaultKind, int> _started = [];
    private readonly ITimer _check;
    private bool _checking;

    public FaultIncidents(ILogger logger, TimeProvider time)
    {
        _logger = logger;
        _time = time;
        _check = time.CreateTimer(_ => Check(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Incidents started since this silo started, by kind.</summary>
    public int Started(FaultKind kind)
    {
        lock (_lock)
        {
            return _started.GetValueOrDefault(kind);
        }
    }

    /// <summary>Counts one expected fault, reported under <paramref name="category"/>; opens an incident if none of its kind is open.</summary>
    public void Record(ExpectedFault fault, string category)
    {
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            if (!_open.TryGetValue(fault.Kind, out var incident))
            {
                incident = new Incident(fault.Cause, now);
                _open[fault.Kind] = incident;
                _started[fault.Kind] = _started.GetValueOrDefault(fault.Kind) + 1;
                LogStarted(_logger, fault.Kind, fault.Cause, QuietPeriod.TotalSeconds);
                if (!_checking)
                {
                    _checking = true;
                    _check.Change(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
                }
            }

            incident.Count++;
            incident.LastAt = now;
            incident.ByCategory[category] = incident.ByCategory.GetValueOrDefault(category) + 1;
        }
    }

    /// <summary>Ends the incidents that have been quiet long enough, and reports on the long ones.</summary>
    public void Check()
    {
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            foreach (var (kind, incident) in _open.ToList())
            {
                if (now - incident.LastAt >= QuietPeriod)
                {
                    _open.Remove(kind);
                    LogEnded(_logger, kind, Seconds(incident.LastAt - incident.StartedAt), incident.Count, incident.Sources(), incident.Cause);
                }
                else if (now - incident.ReportedAt >= ReportInterval)
                {
                    incident.ReportedAt = now;
                    LogContinues(_logger, kind, Seconds(now - incident.StartedAt), incident.Count, incident.Sources());
                }
            }

            if (_open.Count == 0 && _checking)
            {
                _checking = false;
                _check.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            }
        }
    }

    public void Dispose() => _check.Dispose();

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture);

    private sealed class Incident(string cause, DateTimeOffset startedAt)
    {
        public string Cause { get; } = cause;

        public DateTimeOffset StartedAt { get; } = startedAt;

        public DateTimeOffset LastAt { get; set; } = startedAt;

        public DateTimeOffset ReportedAt { get; set; } = startedAt;

        public int Count { get; set; }

        public Dictionary<string, int> ByCategory { get; } = new(StringComparer.Ordinal);

        public string Sources() => string.Join(", ", ByCategory.OrderByDescending(c => c.Value).Select(c => $"{c.Key} {c.Value}"));
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning,
        Message = "Expected fault ({Kind}): {Cause}. Callers are told UNAVAILABLE and retry; further failures of this kind are counted, not logged, until none has come for {QuietSeconds} s")]
    private static partial void LogStarted(ILogger logger, FaultKind kind, string cause, double quietSeconds);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning,
        Message = "Expected fault ({Kind}) still going on after {Seconds} s: {Count} failures so far ({Sources})")]
    private static partial void LogContinues(ILogger logger, FaultKind kind, string seconds, int count, string sources);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning,
        Message = "Expected fault ({Kind}) over: {Count} failures in {Seconds} s ({Sources}); it began with: {Cause}")]
    private static partial void LogEnded(ILogger logger, FaultKind kind, string seconds, int count, string sources, string cause);
}
