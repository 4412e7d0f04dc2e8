using System.Globalization;
using System.Net;

namespace ContactGrains.LoadTest;

internal sealed record LoadOptions
{
    public string Address { get; init; } = "http://127.0.0.1:5000";
    public int Streams { get; init; } = 4;
    public int Conversations { get; init; } = 1000;
    public int Turns { get; init; } = 5;
    public int MaxSeconds { get; init; } = 120;
    public int? SiloPid { get; init; }
    public int Iterations { get; init; } = 200_000;
    public int Agents { get; init; } = 10;
    public string? Error { get; init; }

    public static LoadOptions Parse(string[] args)
    {
        var options = new LoadOptions();
        for (var i = 0; i < args.Length; i += 2)
        {
            if (i + 1 >= args.Length)
            {
                return new LoadOptions { Error = $"Option '{args[i]}' needs a value." };
            }

            var value = args[i + 1];
            int Number() => int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
                ? n
                : throw new FormatException($"{args[i]} takes a positive whole number, not '{value}'.");
            try
            {
                options = args[i] switch
                {
                    "--address" => options with { Address = value },
                    "--streams" => options with { Streams = Number() },
                    "--conversations" => options with { Conversations = Number() },
                    "--turns" => options with { Turns = Number() },
                    "--max-seconds" => options with { MaxSeconds = Math.Min(Number(), 600) },
                    "--silo-pid" => options with { SiloPid = Number() },
                    "--iterations" => options with { Iterations = Number() },
                    "--agents" => options with { Agents = Number() },
                    _ => throw new FormatException($"Unknown option '{args[i]}'."),
                };
            }
            catch (FormatException ex)
            {
                return new LoadOptions { Error = ex.Message };
            }
        }

        // Load goes to this machine only.
        if (!Uri.TryCreate(options.Address, UriKind.Absolute, out var uri)
            || !(uri.IsLoopback || (IPAddress.TryParse(uri.Host, out var ip) && IPAddress.IsLoopback(ip))))
        {
            return new LoadOptions { Error = $"--address must be a loopback URL (127.0.0.1, [::1] or localhost), not '{options.Address}'." };
        }

        return options;
    }
}
