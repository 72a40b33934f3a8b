// The workflow builder: renders the trigger, conditions and steps from the definition JSON held in the form's
// textarea, lets the user add, configure, reorder (drag, or the up/down buttons) and remove steps, and writes the
// definition back into the textarea when the form is submitted. No inline script or style (strict CSP); the
// catalogue (triggers, actions, scripts and their parameters, labels) comes from a JSON script element.
(function () {
  "use strict";

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === null || value === undefined || value === false) { return; }
      if (key === "text") { node.textContent = value; }
      else if (key.slice(0, 2) === "on") { node.addEventListener(key.slice(2), value); }
      else if (value === true) { node.setAttribute(key, ""); }
      else { node.setAttribute(key, value); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }

  function select(options, value, attrs) {
    var node = el("select", attrs);
    options.forEach(function (option) {
      var opt = el("option", {value: String(option[0]), text: option[1]});
      if (String(option[0]) === String(value)) { opt.selected = true; }
      node.appendChild(opt);
    });
    return node;
  }

  function field(label, control, errorText) {
    var wrap = el("label", {"class": "field" + (errorText ? " has-error" : "")}, [el("span", {text: label}), control]);
    if (errorText) { wrap.appendChild(el("span", {"class": "error", text: errorText})); }
    return wrap;
  }

  function start(root) {
    var form = root.closest("form");
    var textarea = form.querySelector("[data-workflow-definition]");
    var catalogue = JSON.parse(document.getElementById("workflow-catalogue").textContent);
    var errors = JSON.parse(document.getElementById("workflow-errors").textContent || "{}");
    var L = catalogue.labels;
    var state;
    try { state = JSON.parse(textarea.value || "{}"); } catch (e) { state = {}; }
    state.trigger = state.trigger || {event: "alert.raised"};
    state.conditions = state.conditions || [];
    state.steps = state.steps || [];
    textarea.closest(".field") ? textarea.closest(".field").setAttribute("hidden", "") : textarea.setAttribute("hidden", "");
    var dragged = null;

    function triggerInfo() {
      return catalogue.triggers.filter(function (t) { return t.name === state.trigger.event; })[0] || null;
    }
    function offeredConditions() {
      var info = triggerInfo();
      return info ? info.conditions : catalogue.schedule_conditions;
    }
    function errorsFor(prefix) {
      return Object.keys(errors).filter(function (key) {
        return key === prefix || key.indexOf(prefix + ".") === 0;
      }).map(function (key) { return errors[key].join(" "); }).join(" ");
    }
    function newId() {
      var n = state.steps.length + 1;
      var ids = state.steps.map(function (s) { return s.id; });
      while (ids.indexOf("step" + n) !== -1) { n += 1; }
      return "step" + n;
    }
    function defaults(action) {
      var p = {
        run_script: {script_id: catalogue.scripts.length ? catalogue.scripts[0].id : null, parameters: {}},
        run_action: {action: catalogue.agent_actions[0][0]},
        open_ticket: {title: "", priority: "auto", reuse_open: true},
        note_ticket: {body: "", public: false},
        close_ticket: {status: "closed", only_if_untouched: true},
        send_email: {to: [], subject: "", body: ""},
        call_webhook: {subscription_id: catalogue.webhooks.length ? catalogue.webhooks[0][0] : null},
        set_device_field: {field: "notes", value: ""},
        add_device_tag: {tag_id: catalogue.tags.length ? catalogue.tags[0][0] : null}
      };
      return p[action] || {};
    }

    function renderTrigger() {
      var options = catalogue.triggers.map(function (t) { return [t.name, t.label + " (" + t.name + ")"]; });
      options.push(["schedule", L.schedule]);
      var current = state.trigger.schedule !== undefined ? "schedule" : state.trigger.event;
      var box = el("section", {"class": "card builder-trigger"}, [el("h2", {text: L.trigger})]);
      box.appendChild(field(L.trigger, select(options, current, {"data-testid": "trigger", onchange: function (e) {
        state.trigger = e.target.value === "schedule" ? {schedule: "0 7 * * 1"} : {event: e.target.value};
        render();
      }}), errorsFor("trigger")));
      if (current === "schedule") {
        box.appendChild(field(L.cron, el("input", {type: "text", value: state.trigger.schedule,
          "data-testid": "cron", oninput: function (e) { state.trigger.schedule = e.target.value; }})));
      } else if (triggerInfo()) {
        box.appendChild(el("p", {"class": "muted", text: L.fields + " " + triggerInfo().payload.join(", ")}));
      }
      return box;
    }

    function renderConditions() {
      var box = el("section", {"class": "card builder-conditions"}, [el("h2", {text: L.conditions})]);
      var offered = offeredConditions();
      state.conditions.forEach(function (condition, index) {
        var info = catalogue.conditions[condition.field] || {choices: []};
        var row = el("div", {"class": "builder-row", "data-condition": String(index)});
        row.appendChild(select(offered.map(function (name) { return [name, catalogue.conditions[name].label]; }),
          condition.field, {"data-testid": "condition-field-" + index, "aria-label": L.field, onchange: function (e) {
            condition.field = e.target.value;
            condition.op = condition.field === "business_hours" ? "is" : "in";
            condition.value = condition.field === "business_hours" ? true : [];
            render();
          }}));
        if (condition.field === "business_hours") {
          row.appendChild(select([["true", L.yes], ["false", L.no]], String(condition.value),
            {"aria-label": L.value, onchange: function (e) { condition.value = e.target.value === "true"; }}));
        } else {
          row.appendChild(select([["in", L.is_one_of], ["not_in", L.is_none_of]], condition.op,
            {"aria-label": L.operator, onchange: function (e) { condition.op = e.target.value; }}));
          var values = select(info.choices, null, {multiple: true, "aria-label": L.value,
            "data-testid": "condition-value-" + index, onchange: function (e) {
              condition.value = Array.prototype.filter.call(e.target.options, function (o) { return o.selected; })
                .map(function (o) { return condition.field === "client" || condition.field === "device_tag"
                  ? parseInt(o.value, 10) : o.value; });
            }});
          Array.prototype.forEach.call(values.options, function (o) {
            o.selected = (condition.value || []).map(String).indexOf(o.value) !== -1;
          });
          row.appendChild(values);
        }
        row.appendChild(el("button", {type: "button", "class": "secondary small", text: L.remove,
          onclick: function () { state.conditions.splice(index, 1); render(); }}));
        var problem = errorsFor("conditions." + index);
        if (problem) { row.appendChild(el("span", {"class": "error", text: problem})); }
        box.appendChild(row);
      });
      var general = errors.conditions ? errors.conditions.join(" ") : "";
      if (general) { box.appendChild(el("p", {"class": "error", text: general})); }
      box.appendChild(el("button", {type: "button", "class": "secondary", text: L.add_condition,
        "data-testid": "add-condition", onclick: function () {
          var name = offered[0];
          state.conditions.push({field: name, op: name === "business_hours" ? "is" : "in",
            value: name === "business_hours" ? true : []});
          render();
        }}));
      return box;
    }

    function paramControls(step) {
      var p = step.params, id = step.id, nodes = [];
      function text(name, label, multiline) {
        var attrs = {value: p[name] || "", "data-testid": name + "-" + id,
          oninput: function (e) { p[name] = e.target.value; }};
        var control = multiline ? el("textarea", {rows: "3", "data-testid": name + "-" + id,
          oninput: attrs.oninput}) : el("input", Object.assign({type: "text"}, attrs));
        if (multiline) { control.value = p[name] || ""; }
        nodes.push(field(label, control, errors["steps." + id + ".params." + name] &&
          errors["steps." + id + ".params." + name].join(" ")));
      }
      function check(name, label) {
        var box = el("input", {type: "checkbox", "data-testid": name + "-" + id,
          onchange: function (e) { p[name] = e.target.checked; }});
        box.checked = !!p[name];
        nodes.push(field(label, box));
      }
      function choose(name, label, options, asInt) {
        nodes.push(field(label, select(options, p[name], {"data-testid": name + "-" + id, onchange: function (e) {
          p[name] = asInt ? parseInt(e.target.value, 10) : e.target.value;
          if (name === "script_id") { p.parameters = {}; render(); }
        }}), errors["steps." + id + ".params." + name] && errors["steps." + id + ".params." + name].join(" ")));
      }
      if (step.action === "run_script") {
        choose("script_id", L.script, catalogue.scripts.map(function (s) {
          return [s.id, s.name + " v" + s.version + " (" + s.os.join(", ") + ")"];
        }), true);
        var script = catalogue.scripts.filter(function (s) { return s.id === p.script_id; })[0];
        p.parameters = p.parameters || {};
        (script ? script.parameters : []).forEach(function (param) {
          var key = "steps." + id + ".params.parameters." + param.name;
          var value = p.parameters[param.name];
          var control;
          if (param.type === "boolean") {
            control = el("input", {type: "checkbox", onchange: function (e) { p.parameters[param.name] = e.target.checked; }});
            control.checked = !!value;
          } else if (param.type === "choice") {
            control = select([["", "—"]].concat(param.choices.map(function (c) { return [c, c]; })),
              value === undefined ? "" : value, {onchange: function (e) {
                if (e.target.value) { p.parameters[param.name] = e.target.value; } else { delete p.parameters[param.name]; }
              }});
          } else {
            control = el("input", {type: param.type === "number" ? "number" : (param.type === "secret" ? "password" : "text"),
              value: value === undefined ? "" : String(value), placeholder: param["default"] !== undefined ? String(param["default"]) : "",
              oninput: function (e) {
                var raw = e.target.value;
                if (raw === "") { delete p.parameters[param.name]; }
                else { p.parameters[param.name] = param.type === "number" ? Number(raw) : raw; }
              }});
          }
          control.setAttribute("data-testid", "param-" + id + "-" + param.name);
          nodes.push(field(param.label + (param.required ? " *" : ""), control, errors[key] && errors[key].join(" ")));
        });
      } else if (step.action === "run_action") {
        choose("action", L.agent_action, catalogue.agent_actions);
      } else if (step.action === "open_ticket") {
        text("title", L.title); choose("priority", L.priority, [["auto", L.auto]].concat(
          catalogue.priorities.map(function (x) { return [x, x.toUpperCase()]; })));
        check("reuse_open", L.reuse_open);
      } else if (step.action === "note_ticket") {
        text("body", L.note, true); check("public", L.public);
      } else if (step.action === "close_ticket") {
        choose("status", L.status, [["closed", L.closed], ["resolved", L.resolved]]);
        check("only_if_untouched", L.only_if_untouched);
      } else if (step.action === "send_email") {
        var to = el("input", {type: "text", value: (p.to || []).join(", "), "data-testid": "to-" + id,
          oninput: function (e) { p.to = e.target.value.split(",").map(function (x) { return x.trim(); })
            .filter(function (x) { return x; }); }});
        nodes.push(field(L.to, to, errors["steps." + id + ".params.to"] && errors["steps." + id + ".params.to"].join(" ")));
        text("subject", L.subject); text("body", L.message, true);
      } else if (step.action === "call_webhook") {
        choose("subscription_id", L.webhook, catalogue.webhooks, true);
      } else if (step.action === "set_device_field") {
        choose("field", L.device_field, catalogue.device_fields);
        if (p.field === "kind") { choose("value", L.value, catalogue.device_kinds); } else { text("value", L.value); }
      } else if (step.action === "add_device_tag") {
        choose("tag_id", L.tag, catalogue.tags, true);
      }
      return nodes;
    }

    function branchOptions(step) {
      var options = [["next", L.next], ["end", L.end]];
      state.steps.forEach(function (other) {
        if (other.id !== step.id) { options.push([other.id, L.go_to + " " + other.id]); }
      });
      return options;
    }

    function move(from, to) {
      if (to < 0 || to >= state.steps.length || from === to) { return; }
      var item = state.steps.splice(from, 1)[0];
      state.steps.splice(to, 0, item);
      render();
    }

    function renderSteps() {
      var box = el("section", {"class": "card builder-steps"}, [el("h2", {text: L.steps})]);
      var list = el("ol", {"class": "builder-step-list"});
      var actions = {};
      catalogue.actions.forEach(function (a) { actions[a.name] = a; });
      state.steps.forEach(function (step, index) {
        var problem = errorsFor("steps." + step.id) || errorsFor("steps." + index);
        var card = el("li", {"class": "builder-step" + (problem ? " has-error" : ""), draggable: "true",
          "data-step": step.id, "data-index": String(index)});
        card.addEventListener("dragstart", function () { dragged = index; card.classList.add("dragging"); });
        card.addEventListener("dragend", function () { card.classList.remove("dragging"); });
        card.addEventListener("dragover", function (e) { e.preventDefault(); });
        card.addEventListener("drop", function (e) { e.preventDefault(); if (dragged !== null) { move(dragged, index); } dragged = null; });
        var head = el("div", {"class": "builder-step-head"}, [
          el("span", {"class": "drag-handle", "aria-hidden": "true", text: "⋮⋮"}),
          el("strong", {text: (index + 1) + ". " + (actions[step.action] ? actions[step.action].label : step.action)}),
          el("input", {type: "text", value: step.id, "class": "step-id", "aria-label": L.step_id,
            "data-testid": "step-id-" + index, onchange: function (e) {
              var old = step.id; step.id = e.target.value.trim();
              state.steps.forEach(function (s) {
                if (s.on_success === old) { s.on_success = step.id; }
                if (s.on_failure === old) { s.on_failure = step.id; }
              });
              render();
            }}),
          el("button", {type: "button", "class": "secondary small", text: "↑", "aria-label": L.up,
            onclick: function () { move(index, index - 1); }}),
          el("button", {type: "button", "class": "secondary small", text: "↓", "aria-label": L.down,
            onclick: function () { move(index, index + 1); }}),
          el("button", {type: "button", "class": "secondary small", text: L.remove, "data-testid": "remove-" + step.id,
            onclick: function () { state.steps.splice(index, 1); render(); }})
        ]);
        card.appendChild(head);
        if (problem) { card.appendChild(el("p", {"class": "error step-error", "data-testid": "step-error-" + step.id,
          text: problem})); }
        var params = el("div", {"class": "builder-params"});
        paramControls(step).forEach(function (node) { params.appendChild(node); });
        card.appendChild(params);
        var branches = el("div", {"class": "builder-row"});
        branches.appendChild(field(actions[step.action] && actions[step.action].waits ? L.on_success : L.then,
          select(branchOptions(step), step.on_success || "next", {"data-testid": "on-success-" + step.id,
            onchange: function (e) { step.on_success = e.target.value; }})));
        branches.appendChild(field(L.on_failure, select(branchOptions(step), step.on_failure || "end",
          {"data-testid": "on-failure-" + step.id, onchange: function (e) { step.on_failure = e.target.value; }})));
        card.appendChild(branches);
        list.appendChild(card);
      });
      box.appendChild(list);
      if (errors.steps) { box.appendChild(el("p", {"class": "error", text: errors.steps.join(" ")})); }
      var palette = select(catalogue.actions.map(function (a) { return [a.name, a.label]; }), "run_script",
        {"data-testid": "palette", "aria-label": L.action});
      box.appendChild(el("div", {"class": "builder-row builder-palette"}, [palette,
        el("button", {type: "button", text: L.add_step, "data-testid": "add-step", onclick: function () {
          state.steps.push({id: newId(), action: palette.value, params: defaults(palette.value),
            on_success: "next", on_failure: "end"});
          render();
        }})]));
      return box;
    }

    function render() {
      root.textContent = "";
      root.appendChild(renderTrigger());
      root.appendChild(renderConditions());
      root.appendChild(renderSteps());
    }

    form.addEventListener("submit", function () {
      textarea.value = JSON.stringify({trigger: state.trigger, conditions: state.conditions, steps: state.steps});
    });
    render();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.querySelector("[data-workflow-builder]");
    if (root) { start(root); }
  });
}());
