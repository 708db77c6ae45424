// `tiercache namespaces DIR [--json]`: the live namespaces, by name.
#include <iostream>
#include <memory>

#include "storage/inspect.h"
#include "storage/text_encoding.h"
#include "tools/command.h"
#include "tools/human.h"
#include "tools/json_output.h"
#include "tools/open_store.h"

namespace tiercache::tool {
namespace {

struct NamespacesFlags {
  std::string dir;
  bool json = false;
};

int RunNamespaces(const NamespacesFlags& flags) {
  std::unique_ptr<storage::Store> store;
  if (const int code = OpenForReading("namespaces", flags.dir, &store); code != kExitOk) {
    return code;
  }
  std::vector<storage::Namespace> namespaces;
  if (Status s = storage::SelectNamespaces(*store, {}, &namespaces); !s.ok()) {
    return Failed("namespaces", s);
  }
  Table table({"NAMESPACE", "ID"});
  for (const storage::Namespace& ns : namespaces) {
    if (flags.json) {
      JsonObject object;
      PutBytes(object, "namespace", ns.name);
      object["id"] = ns.id;
      PrintJsonLine(object);
    } else {
      table.AddRow({storage::Printable(ns.name), std::to_string(ns.id)});
    }
  }
  if (!flags.json) table.Print(std::cout);
  return kExitOk;
}

}  // namespace

void AddNamespaces(CLI::App& app, Action* action) {
  auto flags = std::make_shared<NamespacesFlags>();
  CLI::App* cmd = app.add_subcommand("namespaces", "The store's namespaces, by name");
  cmd->add_option("DIR", flags->dir, "The store's directory")->required();
  cmd->add_flag("--json", flags->json,
                "One JSON object per namespace: {\"namespace\", \"namespace_encoding\", \"id\"}");
  cmd->footer("Works while an application has the store open.");
  cmd->callback([action, flags] { *action = [flags] { return RunNamespaces(*flags); }; });
}

}  // namespace tiercache::tool
