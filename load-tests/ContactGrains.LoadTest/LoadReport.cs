using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ContactGrains.LoadTest;

/// <summary>
/// What one run measured, for people (Markdown) and scripts (JSON): its settings, its figures, its
/// latency distributions and its problems. Every command fills one and writes it with <c>--report</c>.
/// </summary>
internal sealed class LoadReport
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    [JsonConstructor]
    public LoadReport(string command) => Command = command;

    public string Command { get; }

    public DateTimeOffset StartedAt { get; init; } = DateTimeOffset.UtcNow;

    /// <summary>The run's settings, as given on the command line (name to value).</summary>
    public Dictionary<string, string> Settings { get; init; } = [];

    /// <summary>Measured figures in the order they were added (e.g. "messages/s").</summary>
    public List<Figure> Figures { get; init; } = [];

    /// <summary>Latency distributions by name (e.g. "ack").</summary>
    public Dictionary<string, LatencySummary> Latencies { get; init; } = [];

    /// <summary>A soak's intervals, in order (empty for the other commands).</summary>
    public List<SoakSample> Samples { get; init; } = [];

    /// <summary>Tables of rows a run measured in steps (e.g. memory at each checkpoint).</summary>
    public List<Table> Tables { get; init; } = [];

    /// <summary>What a reader must know to read the figures right (e.g. what a memory figure includes).</summary>
    public List<string> Notes { get; init; } = [];

    public List<string> Problems { get; init; } = [];

    public bool Passed { get; set; }

    public void Add(string name, double value, string unit) => Figures.Add(new Figure(name, value, unit));

    /// <summary>Adds a setting, formatted in the invariant culture.</summary>
    public void Set(string name, IFormattable? value)
    {
        if (value is not null)
        {
            Settings[name] = value.ToString(null, CultureInfo.InvariantCulture);
        }
    }

    public void Set(string name, string? value)
    {
        if (value is not null)
        {
            Settings[name] = value;
        }
    }

    /// <summary>
    /// Ends a run: prints the first problems and the result line (<c>result: {passed}</c>, or FAILED),
    /// writes the report into <paramref name="directory"/> if given and prints where; returns the exit code.
    /// </summary>
    public int Conclude(string? directory, string passed)
    {
        foreach (var problem in Problems.Take(10))
        {
            Console.WriteLine($"problem: {problem}");
        }

        Console.WriteLine(Passed ? $"result: {passed}" : $"result: FAILED ({Problems.Count} problems)");
        if (directory is not null)
        {
            var (json, markdown) = Write(directory);
            Console.WriteLine($"report: {json}, {markdown}");
        }

        return Passed ? 0 : 1;
    }

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static LoadReport FromJson(string json) =>
        JsonSerializer.Deserialize<LoadReport>(json, Json) ?? throw new JsonException("The report is empty (null).");

    public string ToMarkdown()
    {
        var text = new StringBuilder();
        var invariant = CultureInfo.InvariantCulture;
        text.Append(invariant, $"# contactgrains-load {Command}\n\n");
        text.Append(invariant, $"Started {StartedAt:yyyy-MM-dd HH:mm:ss} UTC. Result: **{(Passed ? "passed" : "FAILED")}**.\n\n");
        AppendTable(text, ["Setting", "Value"], Settings.Select(setting => (IReadOnlyList<string>)[setting.Key, setting.Value]));
        AppendTable(text, ["Figure", "Value"], Figures.Select(figure => (IReadOnlyList<string>)[figure.Name, Invariant($"{figure.Value:#,0.##} {figure.Unit}")]));
        AppendTable(text, ["Latency", "Samples", "p50", "p90", "p95", "p99", "p99.9", "max"], Latencies.Select(latency =>
        {
            var l = latency.Value;
            return (IReadOnlyList<string>)[latency.Key, Invariant($"{l.Count:#,0}"), Ms(l.P50Ms), Ms(l.P90Ms), Ms(l.P95Ms), Ms(l.P99Ms), Ms(l.P999Ms), Ms(l.MaxMs)];
        }));
        AppendTable(text, ["Interval", "Ends at", "Acked", "Messages/s", "p50", "p99", "Silo RSS", "Silo CPU"], Samples.Select(s => (IReadOnlyList<string>)
        [
            s.Full ? Invariant($"{s.Index}") : Invariant($"{s.Index} (cut short)"),
            Invariant($"{s.EndSeconds:F1} s"),
            Invariant($"{s.Acked:#,0}"),
            Invariant($"{s.MessagesPerSecond:#,0.#}"),
            Ms(s.P50Ms),
            Ms(s.P99Ms),
            s.SiloRssMiB is { } mib ? Invariant($"{mib:F0} MiB") : "-",
            s.SiloCpuSeconds is { } seconds ? Invariant($"{seconds:F2} s") : "-",
        ]));
        foreach (var table in Tables)
        {
            text.Append(invariant, $"**{table.Title}**\n\n");
            AppendTable(text, table.Columns, table.Rows, evenIfEmpty: true);
        }

        foreach (var note in Notes)
        {
            text.Append(invariant, $"Note: {note}\n\n");
        }

        foreach (var problem in Problems)
        {
            text.Append(invariant, $"- problem: {problem}\n");
        }

        return text.ToString();
    }

    /// <summary>A Markdown table (header, separator, rows, blank line); nothing when it has no rows, unless <paramref name="evenIfEmpty"/>.</summary>
    private static void AppendTable(StringBuilder text, IReadOnlyList<string> columns, IEnumerable<IReadOnlyList<string>> rows, bool evenIfEmpty = false)
    {
        var all = rows.ToList();
        if (all.Count == 0 && !evenIfEmpty)
        {
            return;
        }

        text.Append("| ").AppendJoin(" | ", columns).Append(" |\n|").Append(string.Concat(columns.Select(_ => " --- |"))).Append('\n');
        foreach (var row in all)
        {
            text.Append("| ").AppendJoin(" | ", row).Append(" |\n");
        }

        text.Append('\n');
    }

    private static string Ms(double milliseconds) => Invariant($"{milliseconds:F2} ms");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>Writes <c>{command}-{time}.json</c> and <c>.md</c> into <paramref name="directory"/> and returns their paths.</summary>
    public (string Json, string Markdown) Write(string directory)
    {
        Directory.CreateDirectory(directory);
        var stem = Path.Combine(directory, string.Create(CultureInfo.InvariantCulture, $"{Command}-{StartedAt:yyyyMMdd-HHmmss}"));
        File.WriteAllText(stem + ".json", ToJson());
        File.WriteAllText(stem + ".md", ToMarkdown());
        return (stem + ".json", stem + ".md");
    }

    public sealed record Figure(string Name, double Value, string Unit);

    /// <summary>A titled table: its column names and its rows, as formatted text.</summary>
    public sealed record Table(string Title, IReadOnlyList<string> Columns, List<IReadOnlyList<string>> Rows);
}
