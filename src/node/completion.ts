// `plurisim completion bash|zsh|fish`: completion scripts generated from the command tree as
// `--help` shows it (commander's Help: the visible commands, options and arguments), so they list
// exactly the commands and flags the CLI has. An argument with choices completes to them; a
// <scenario> argument to the preset names, a [sweep] argument to the sweep presets; files always.
import type { Command } from "commander";
import { presets } from "../core/presets.js";
import { sweepPresets } from "../sweep/presets.js";

/** The shells `plurisim completion` writes a script for. */
export const COMPLETION_SHELLS = ["bash", "zsh", "fish"] as const;
export type CompletionShell = (typeof COMPLETION_SHELLS)[number];

interface CommandInfo {
  name: string;
  description: string;
  flags: string[];
  /** Words that complete the first argument, besides file names. */
  words: string[];
}

/** Preset names by the name of the argument that takes them. */
const ARGUMENT_WORDS: Record<string, () => string[]> = {
  scenario: () => Object.keys(presets),
  sweep: () => Object.keys(sweepPresets),
};

function commandsOf(program: Command): CommandInfo[] {
  const help = program.createHelp();
  // The visible commands include `help`, whose argument is a command name.
  const commands = help.visibleCommands(program);
  const names = commands.map((c) => c.name());
  return commands.map((c) => {
    const first = help.visibleArguments(c)[0];
    const words = c.name() === "help" ? names.filter((n) => n !== "help") : [...(first?.argChoices ?? []), ...(ARGUMENT_WORDS[first?.name() ?? ""]?.() ?? [])];
    return {
      name: c.name(),
      description: c.description().split(/[:;(]/)[0].trim(),
      flags: flagsOf(help.visibleOptions(c)),
      words,
    };
  });
}

/** The long flags of `options` (the short one when an option has no long form). */
function flagsOf(options: readonly { long?: string; short?: string }[]): string[] {
  return options.map((o) => o.long ?? o.short ?? "").filter(Boolean);
}

const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

function bash(cmds: CommandInfo[], top: string[]): string {
  const cases = cmds
    .map((c) => `    ${c.name}) flags=${quote(c.flags.join(" "))}; words=${quote(c.words.join(" "))} ;;`)
    .join("\n");
  return `# plurisim completion for bash: eval "$(plurisim completion bash)" (or save it under ~/.local/share/bash-completion/completions/plurisim)
_plurisim() {
  local cur cmd flags words
  cur="\${COMP_WORDS[COMP_CWORD]}"
  cmd="\${COMP_WORDS[1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W ${quote([...cmds.map((c) => c.name), ...top].join(" "))} -- "$cur") )
    return
  fi
  case "$cmd" in
${cases}
    *) flags="--help"; words="" ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$flags" -- "$cur") )
  else
    COMPREPLY=( $(compgen -W "$words" -- "$cur") $(compgen -f -- "$cur") )
  fi
}
complete -o filenames -F _plurisim plurisim
`;
}

function zsh(cmds: CommandInfo[], top: string[]): string {
  const describe = cmds.map((c) => `    ${quote(`${c.name}:${c.description.replace(/:/g, "\\:")}`)}`).join("\n");
  // One rest spec per command: the first argument offers the preset names and files, later ones files.
  const first = (c: CommandInfo) => (c.words.length ? quote(`1: :{_alternative "names:name:(${c.words.join(" ")})" "files:file:_files"}`) + " " : "");
  const cases = cmds
    .map((c) => `    ${c.name}) _arguments ${c.flags.map((f) => quote(`${f}[]`)).join(" ")} ${first(c)}'*:file:_files' ;;`)
    .join("\n");
  return `#compdef plurisim
# plurisim completion for zsh: eval "$(plurisim completion zsh)" after compinit (or save it as _plurisim in your $fpath)
_plurisim() {
  local -a commands flags
  commands=(
${describe}
  )
  flags=(${top.map(quote).join(" ")})
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    compadd -a flags
    return
  fi
  case "$words[2]" in
${cases}
  esac
}
compdef _plurisim plurisim
`;
}

function fish(cmds: CommandInfo[], top: string[]): string {
  const lines = [
    "# plurisim completion for fish: plurisim completion fish | source (or save it as ~/.config/fish/completions/plurisim.fish)",
    "complete -c plurisim -f",
  ];
  // fish names a flag without its dashes: -l for a long one, -s for a short one.
  const flag = (f: string) => (f.startsWith("--") ? `-l ${f.slice(2)}` : `-s ${f.slice(1)}`);
  for (const f of top) lines.push(`complete -c plurisim -n __fish_use_subcommand ${flag(f)}`);
  for (const c of cmds) {
    lines.push(`complete -c plurisim -n __fish_use_subcommand -a ${c.name} -d ${quote(c.description)}`);
    for (const f of c.flags) lines.push(`complete -c plurisim -n ${quote(`__fish_seen_subcommand_from ${c.name}`)} ${flag(f)}`);
    if (c.words.length) lines.push(`complete -c plurisim -n ${quote(`__fish_seen_subcommand_from ${c.name}`)} -a ${quote(c.words.join(" "))}`);
    lines.push(`complete -c plurisim -n ${quote(`__fish_seen_subcommand_from ${c.name}`)} -F`);
  }
  return lines.join("\n") + "\n";
}

/** The completion script for `shell`, listing the commands and flags of `program`. */
export function completionScript(shell: CompletionShell, program: Command): string {
  const cmds = commandsOf(program);
  // The program's own flags (--help, --version), offered beside the command names.
  const top = flagsOf(program.createHelp().visibleOptions(program));
  return shell === "bash" ? bash(cmds, top) : shell === "zsh" ? zsh(cmds, top) : fish(cmds, top);
}
