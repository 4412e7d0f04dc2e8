using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using ContactGrains.Client;
using Grpc.Net.Client;

namespace ContactGrains.Cluster.Tests;

/// <summary>
/// One silo host as a separate process (dotnet ContactGrains.Silo.dll), its output in a log file.
/// It runs under a small shell watchdog that SIGKILLs it when this test process goes away
/// (its stdin pipe closes), so a crashed or killed test run cannot leave silos behind.
/// </summary>
internal sealed class SiloProcess : IAsyncDisposable
{
    // "$1" is the log file (the shell's own notices go there too), the rest is the silo's command
    // line. The watcher reads the test process's pipe on fd 3 (an asynchronous list's stdin would
    // be /dev/null) until it closes.
    private const string Watchdog = """
        exec >>"$1" 2>&1; shift
        "$@" </dev/null &
        silo=$!
        exec 3<&0
        { while read -r _; do :; done; kill -9 "$silo" 2>/dev/null; } <&3 &
        watcher=$!
        exec 3<&-
        wait "$silo"
        status=$?
        kill "$watcher" 2>/dev/null
        exit "$status"
        """;

    private readonly Process _process;
    private readonly GrpcChannel _channel;

    private SiloProcess(SiloSettings settings, Process process, string logPath)
    {
        Settings = settings;
        _process = process;
        LogPath = logPath;
        ProcessId = process.Id;
        _channel = ChannelClient.OpenChannel(settings.Address);
    }

    public SiloSettings Settings { get; }

    public string Name => Settings.Name;

    public string Address => Settings.Address;

    public int ProcessId { get; }

    public string LogPath { get; }

    public bool HasExited => _process.HasExited;

    public bool WasKilled { get; private set; }

    /// <summary>A gRPC channel to this silo (owned by this object).</summary>
    public GrpcChannel Channel => _channel;

    /// <summary>Starts <paramref name="dll"/> (a copy of the built silo, see <see cref="SiloBinary.CopyTo"/>).</summary>
    public static SiloProcess Start(SiloSettings settings, string dll, string logDirectory)
    {
        var logPath = Path.Combine(logDirectory, $"{settings.Name}.log");
        File.WriteAllText(logPath, $"$ dotnet {dll} {string.Join(' ', settings.Arguments)}\n");
        var start = new ProcessStartInfo("/bin/sh")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            // The host reads appsettings.json from its content root, the working directory.
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        foreach (var argument in (string[])["-c", Watchdog, "silo-watchdog", logPath, SiloBinary.DotnetHost, dll, .. settings.Arguments])
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start silo {settings.Name}.");
        return new SiloProcess(settings, process, logPath);
    }

    /// <summary>Polls the standard gRPC health service until the silo answers SERVING.</summary>
    public Task WaitReadyAsync(TimeSpan timeout) =>
        GrpcHealthProbe.WaitServingAsync(_channel.CreateCallInvoker(), _process, $"Silo {Name}", timeout, () => LogTail());

    /// <summary>
    /// The silo host's own process id, or null once it is gone: the watchdog shell's child that
    /// runs the dotnet host (its other child, the watcher, is a forked shell with the shell's command line).
    /// </summary>
    public int? SiloProcessId =>
        Children(ProcessId).FirstOrDefault(pid => ReadProcFile(pid, "cmdline").StartsWith(SiloBinary.DotnetHost + "\0", StringComparison.Ordinal)) is var pid and > 0
            ? pid
            : null;

    /// <summary>True while the silo host process runs (not exited, not a zombie).</summary>
    public bool SiloIsRunning => SiloProcessId is { } pid && !IsGone(pid);

    /// <summary>
    /// SIGKILL, as a crash would: no shutdown, no goodbye to the cluster. The silo host is killed
    /// directly and this returns once it is dead, so the moment of the crash is sharp
    /// (Process.Kill(entireProcessTree) stops and scans every process first: 0.5-2.5 s on a busy
    /// machine). Its watchdog then exits by itself; if not, Process.Kill(entireProcessTree: true).
    /// </summary>
    public Task KillAsync()
    {
        WasKilled = true;
        return KillTreeAsync();
    }

    private async Task KillTreeAsync()
    {
        if (SiloProcessId is { } silo)
        {
            _ = kill(silo, SigKill);
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (!IsGone(silo))
            {
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"Silo {Name} (pid {silo}) was still alive 10 s after SIGKILL.");
                }

                await Task.Delay(10);
            }
        }

        // The watchdog exits on its own once the silo is gone; if it does not, it goes the slow way.
        try
        {
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    private static IEnumerable<int> Children(int pid) =>
        ReadProcFile(pid, $"task/{pid}/children").Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(c => int.Parse(c, CultureInfo.InvariantCulture));

    // Dead: no /proc entry, or a zombie waiting for its parent.
    private static bool IsGone(int pid) => ReadProcFile(pid, "stat") is var stat && (stat.Length == 0 || stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z'));

    private static string ReadProcFile(int pid, string name)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/{name}");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    private const int SigKill = 9;

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    /// <summary>The last lines of the silo's output, for failure messages.</summary>
    public string LogTail(int lines = 40)
    {
        try
        {
            var all = File.ReadAllLines(LogPath);
            return $"--- {Name} (pid {ProcessId}, {Address}, silo port {Settings.SiloPort}) last {Math.Min(lines, all.Length)} of {all.Length} lines ---\n"
                + string.Join('\n', all.TakeLast(lines));
        }
        catch (IOException ex)
        {
            return $"--- {Name}: log unreadable ({ex.Message}) ---";
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await KillTreeAsync();
        }
        catch (InvalidOperationException)
        {
            // Already reaped.
        }
        finally
        {
            _channel.Dispose();
            _process.Dispose();
        }
    }
}
